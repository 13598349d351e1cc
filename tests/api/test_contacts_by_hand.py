"""Contacts by hand: a marketer adds and edits a contact with a form, with consent and lists,
and adds or removes list members by email, several at once (issue 14, point 1); the CSV
import warns when no column holds consent (point 5)."""

from __future__ import annotations

import html
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlmodel import Session, col, func, select

from app.models import Contact, ContactList, Event, ListMembership, User
from app.services.contacts.contacts import upsert_contact
from app.services.contacts.fields import ContactData
from tests.fixtures.web import Browser

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def newsletter(session: Session) -> ContactList:
    found = ContactList(key="newsletter", name="Newsletter", created_at=NOW)
    session.add(found)
    session.add(ContactList(key="customers", name="Customers", created_at=NOW))
    session.commit()
    return found


def add_form(**values: Any) -> dict[str, Any]:
    """The add form as a browser sends it: every text field, the three blank attribute rows."""
    form: dict[str, Any] = {"email": "", "first_name": "", "last_name": "", "phone": ""}
    for index in range(3):
        form |= {f"attr_name_{index}": "", f"attr_value_{index}": "", f"attr_kind_{index}": "text"}
    form.update(values)
    return form


def send(logged_in: Browser, url: str, form: dict[str, Any]) -> Any:
    return logged_in.client.post(url, data={**form, "csrf_token": logged_in.csrf})


def count(session: Session, model: type) -> int:
    return int(session.exec(select(func.count()).select_from(model)).one())


def contact_by_email(session: Session, email: str) -> Contact:
    session.expire_all()
    return session.exec(select(Contact).where(col(Contact.email) == email)).one()


def list_keys(session: Session, contact: Contact) -> set[str]:
    rows = session.exec(
        select(ContactList.key)
        .join(ListMembership, col(ListMembership.list_id) == col(ContactList.id))
        .where(col(ListMembership.contact_id) == contact.id)
    )
    return set(rows)


def test_the_contacts_page_offers_to_add_a_contact(logged_in: Browser) -> None:
    page = logged_in.client.get("/contacts")
    form = logged_in.client.get("/contacts/new")

    assert 'data-testid="add-contact"' in page.text
    assert 'href="/contacts/new"' in page.text
    assert form.status_code == 200
    for name in ("email", "first_name", "last_name", "phone", "consent_email", "consent_sms"):
        assert f'name="{name}"' in form.text
    assert 'data-testid="save-contact"' in form.text


def test_a_contact_added_by_hand_has_its_fields_lists_attributes_and_consent(
    logged_in: Browser, session: Session, user: User, newsletter: ContactList
) -> None:
    form = add_form(
        email=" Lea.Martin@Example.com ",
        first_name="Léa",
        last_name="Martin",
        phone="+33 6 12 34 56 78",
        consent_email="1",
        lists=["newsletter"],
        attr_name_0="city",
        attr_value_0="Lyon",
        attr_name_1="orders_count",
        attr_value_1="3",
        attr_kind_1="number",
        attr_name_2="vip",
        attr_value_2="oui",
        attr_kind_2="boolean",
    )

    response = send(logged_in, "/contacts/new", form)

    assert response.status_code == 303
    lea = contact_by_email(session, "lea.martin@example.com")
    assert response.headers["location"] == f"/contacts/{lea.id}?added=1"
    assert (lea.first_name, lea.last_name, lea.phone) == ("Léa", "Martin", "+33612345678")
    assert lea.attributes == {"city": "Lyon", "orders_count": 3, "vip": True}
    assert lea.email_consent is True
    assert lea.email_consent_source == "added by Marie"
    assert lea.email_consent_at is not None
    assert lea.sms_consent is False
    assert lea.sms_consent_source is None
    assert list_keys(session, lea) == {"newsletter"}
    names = set(session.exec(select(Event.name).where(col(Event.contact_id) == lea.id)))
    assert names == {"contact_created", "list_added"}  # what "new contact" scenarios wait for
    page = logged_in.client.get(response.headers["location"])
    assert "Contact added." in page.text
    assert "added by Marie" in page.text
    assert 'href="/lists/newsletter">Newsletter</a>' in page.text
    assert "Added to list <strong>Newsletter</strong>" in page.text  # its name, not its key


def test_the_consent_source_names_the_user_by_email_when_they_have_no_name(
    logged_in: Browser, session: Session, user: User
) -> None:
    user.name = ""
    session.add(user)
    session.commit()

    send(logged_in, "/contacts/new", add_form(email="tom@example.com", consent_sms="1"))

    tom = contact_by_email(session, "tom@example.com")
    assert tom.sms_consent is True
    assert tom.sms_consent_source == "added by marie@shop.example"
    assert tom.email_consent is False


@pytest.mark.parametrize(
    ("form", "field", "words"),
    [
        (add_form(email=""), "email", "Give the contact's email address"),
        (add_form(email="lea@"), "email", "is not a valid email address"),
        (add_form(email="lea@example.com", phone="0612"), "phone", "international format"),
        (add_form(email="lea@example.com", first_name="x" * 201), "first_name", "longer than"),
        (
            add_form(email="lea@example.com", attr_name_0="bad name", attr_value_0="1"),
            "attribute_0",
            "bad name",
        ),
        (
            add_form(email="lea@example.com", attr_name_1="", attr_value_1="Lyon"),
            "attribute_1",
            "give this value a name",
        ),
        (
            add_form(
                email="lea@example.com", attr_name_0="n", attr_value_0="ten", attr_kind_0="number"
            ),
            "attribute_0",
            "is not a number",
        ),
        (
            add_form(email="lea@example.com", attr_name_0="score", attr_value_0="3"),
            "attribute_0",
            "one of the contact's own fields",
        ),
        (add_form(email="lea@example.com", lists=["gone"]), "lists", "no longer exists"),
    ],
)
def test_invalid_input_is_refused_inline_and_writes_nothing(
    logged_in: Browser, session: Session, form: dict[str, Any], field: str, words: str
) -> None:
    response = send(logged_in, "/contacts/new", form)

    assert response.status_code == 422
    text = html.unescape(response.text)
    assert "Nothing was saved" in text
    assert f'id="problem-{field}"' in text
    assert words in text.split(f'id="problem-{field}"')[1].split("</span>")[0]
    assert count(session, Contact) == 0
    assert count(session, Event) == 0


def test_a_refused_form_shows_what_was_typed_again(logged_in: Browser) -> None:
    form = add_form(email="lea@", first_name="Léa", consent_email="1", attr_name_0="city")
    response = send(logged_in, "/contacts/new", form | {"attr_value_0": "Lyon"})

    assert response.status_code == 422
    assert 'value="Léa"' in response.text
    assert 'value="Lyon"' in response.text
    assert 'name="consent_email" value="1" checked' in response.text
    assert 'aria-invalid="true" aria-describedby="problem-email"' in response.text


def test_a_duplicate_email_links_to_the_existing_contact(
    logged_in: Browser, session: Session
) -> None:
    first = send(logged_in, "/contacts/new", add_form(email="lea@example.com", first_name="Léa"))
    again = send(logged_in, "/contacts/new", add_form(email="LEA@example.com", first_name="Other"))

    lea = contact_by_email(session, "lea@example.com")
    assert first.status_code == 303
    assert again.status_code == 409
    assert "A contact with the email lea@example.com already exists." in again.text
    assert f'<a href="/contacts/{lea.id}">Open that contact</a>' in again.text
    assert count(session, Contact) == 1
    assert lea.first_name == "Léa"


def add_lea(session: Session, **attributes: Any) -> Contact:
    data = ContactData(
        fields={"email": "lea@example.com", "first_name": "Léa"}, attributes=attributes
    )
    contact = upsert_contact(session, data, now=NOW, source="api").contact
    session.commit()
    return contact


def test_the_edit_form_shows_the_contact_as_it_is(
    logged_in: Browser, session: Session, newsletter: ContactList
) -> None:
    lea = add_lea(session, city="Lyon", orders_count=4, vip=False)
    send(logged_in, f"/contacts/{lea.id}/lists", {"list_key": "newsletter"})

    page = logged_in.client.get(f"/contacts/{lea.id}")
    form = logged_in.client.get(f"/contacts/{lea.id}/edit")

    assert f'href="/contacts/{lea.id}/edit" data-testid="edit-contact"' in page.text
    assert form.status_code == 200
    assert 'value="lea@example.com"' in form.text
    assert 'name="lists" value="newsletter" checked' in form.text
    assert 'name="lists" value="customers" >' in form.text
    assert 'name="attr_name_1" value="orders_count"' in form.text
    assert '<option value="number" selected>' in form.text
    assert 'name="attr_value_2" value="no"' in form.text


def test_editing_changes_fields_attributes_lists_and_consent(
    logged_in: Browser, session: Session, newsletter: ContactList
) -> None:
    lea = add_lea(session, city="Lyon", orders_count=4)
    send(logged_in, f"/contacts/{lea.id}/lists", {"list_key": "newsletter"})
    form = add_form(
        email="lea.martin@example.com",
        first_name="Léa",
        last_name="Martin",
        consent_email="1",
        lists=["customers"],
        attr_name_0="city",
        attr_value_0="Grenoble",
        # orders_count's row is gone: the attribute goes too
    )

    response = send(logged_in, f"/contacts/{lea.id}/edit", form)

    assert response.status_code == 303
    assert response.headers["location"] == f"/contacts/{lea.id}?saved=1"
    lea = contact_by_email(session, "lea.martin@example.com")
    assert lea.last_name == "Martin"
    assert lea.attributes == {"city": "Grenoble"}
    assert lea.email_consent is True
    assert lea.email_consent_source == "added by Marie"
    assert list_keys(session, lea) == {"customers"}
    events = session.exec(select(Event).where(col(Event.contact_id) == lea.id)).all()
    changed = {e.properties.get("attribute") for e in events if e.name == "attribute_changed"}
    assert changed == {"email", "last_name", "city", "orders_count"}
    moves = {(e.name, e.properties["list"]) for e in events if e.name.startswith("list_")}
    assert moves == {
        ("list_added", "newsletter"),
        ("list_added", "customers"),
        ("list_removed", "newsletter"),
    }


def test_unticking_consent_withdraws_it_and_says_who(logged_in: Browser, session: Session) -> None:
    send(logged_in, "/contacts/new", add_form(email="lea@example.com", consent_email="1"))
    lea = contact_by_email(session, "lea@example.com")

    send(logged_in, f"/contacts/{lea.id}/edit", add_form(email="lea@example.com"))

    lea = contact_by_email(session, "lea@example.com")
    assert lea.email_consent is False
    assert lea.email_consent_source == "withdrawn by Marie"


def test_a_refused_edit_changes_nothing(logged_in: Browser, session: Session) -> None:
    lea = add_lea(session, city="Lyon")
    send(logged_in, "/contacts/new", add_form(email="tom@example.com"))
    before = count(session, Event)

    bad = send(logged_in, f"/contacts/{lea.id}/edit", add_form(email="lea@example.com", phone="12"))
    taken = send(logged_in, f"/contacts/{lea.id}/edit", add_form(email="tom@example.com"))

    assert bad.status_code == 422
    assert taken.status_code == 409
    assert "Open that contact" in taken.text
    lea = contact_by_email(session, "lea@example.com")
    assert lea.phone is None
    assert lea.attributes == {"city": "Lyon"}
    assert count(session, Event) == before


def test_a_contact_joins_and_leaves_a_list_from_their_page(
    logged_in: Browser, session: Session, newsletter: ContactList
) -> None:
    lea = add_lea(session)
    page = logged_in.client.get(f"/contacts/{lea.id}")
    assert 'data-testid="join-list"' in page.text
    assert '<option value="newsletter">Newsletter</option>' in page.text

    joined = send(logged_in, f"/contacts/{lea.id}/lists", {"list_key": "newsletter"})
    assert joined.status_code == 303
    assert list_keys(session, lea) == {"newsletter"}
    page = logged_in.client.get(f"/contacts/{lea.id}")
    assert 'data-testid="leave-list-newsletter"' in page.text

    left = send(logged_in, f"/contacts/{lea.id}/lists/newsletter/leave", {})
    assert left.status_code == 303
    assert list_keys(session, lea) == set()
    unknown = send(logged_in, f"/contacts/{lea.id}/lists", {"list_key": "nope"})
    assert unknown.status_code == 404


def test_a_list_page_adds_several_members_by_email_and_reports_each(
    logged_in: Browser, session: Session, newsletter: ContactList
) -> None:
    for email in ("a@example.com", "b@example.com", "c@example.com"):
        send(logged_in, "/contacts/new", add_form(email=email))
    send(logged_in, "/lists/newsletter/members/add", {"emails": "c@example.com"})

    page = logged_in.client.get("/lists/newsletter")
    response = logged_in.post(
        "/lists/newsletter/members/add",
        {"emails": "A@example.com, b@example.com\nc@example.com\nnobody@example.com; not-an-email"},
        htmx=True,
    )

    assert page.status_code == 200
    assert 'name="emails"' in page.text
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<section class="card" id="members-card">')
    text = html.unescape(response.text)
    assert "2 added." in text
    assert "1 already in the list." in text
    assert "No contact has this email (add them first): nobody@example.com" in text
    assert "Not an email address: not-an-email" in text
    assert "<strong>3</strong> contacts in this list." in text
    session.expire_all()
    assert count(session, ListMembership) == 3


def test_a_list_page_removes_members_by_email(
    logged_in: Browser, session: Session, newsletter: ContactList
) -> None:
    for email in ("a@example.com", "b@example.com"):
        send(logged_in, "/contacts/new", add_form(email=email, lists=["newsletter"]))

    response = logged_in.post(
        "/lists/newsletter/members/remove", {"emails": "a@example.com\nc@example.com"}, htmx=True
    )

    text = html.unescape(response.text)
    assert "1 removed." in text
    assert "No contact has this email" in text
    session.expire_all()
    assert count(session, ListMembership) == 1
    left = session.exec(select(Event).where(col(Event.name) == "list_removed")).one()
    assert left.properties == {"list": "newsletter"}


def test_an_empty_email_box_is_refused(
    logged_in: Browser, session: Session, newsletter: ContactList
) -> None:
    response = logged_in.post("/lists/newsletter/members/add", {"emails": " \n, "}, htmx=True)

    assert response.status_code == 422
    assert "Paste at least one email address" in response.text
    assert count(session, ListMembership) == 0


def test_the_lists_page_links_each_list_to_its_page(
    logged_in: Browser, newsletter: ContactList
) -> None:
    assert 'href="/lists/newsletter"' in logged_in.client.get("/lists").text
    assert logged_in.client.get("/lists/nope").status_code == 404


def upload(logged_in: Browser, content: bytes) -> Any:
    response = logged_in.client.post(
        "/contacts/import",
        files={"file": ("shop.csv", content, "text/csv")},
        data={"csrf_token": logged_in.csrf},
    )
    assert response.status_code == 303
    return logged_in.client.get(response.headers["location"])


def test_the_import_warns_when_no_column_holds_consent(logged_in: Browser) -> None:
    page = upload(logged_in, b"Email,First name\na@x.example,Ann\nb@x.example,Bob\n")

    text = html.unescape(page.text)
    warning = text.split('data-testid="consent-warning"')[1].split("</div>")[0]
    assert "hidden" not in warning.split(">")[0]
    assert "these 2 contacts will not receive marketing emails" in warning


def test_the_import_warning_is_hidden_when_a_column_holds_consent(logged_in: Browser) -> None:
    page = upload(logged_in, b"Email,Newsletter\na@x.example,yes\n")

    assert 'data-testid="consent-warning" hidden' in page.text


def test_a_french_user_adds_a_contact_in_french(
    french: Browser, session: Session, newsletter: ContactList
) -> None:
    contacts = html.unescape(french.client.get("/contacts").text)
    form = html.unescape(french.client.get("/contacts/new").text)
    refused = send(french, "/contacts/new", add_form(email="lea@", phone="12"))
    saved = send(french, "/contacts/new", add_form(email="lea@example.com", consent_email="1"))
    again = send(french, "/contacts/new", add_form(email="lea@example.com"))

    assert "Ajouter un contact" in contacts
    assert "Accepte de recevoir des e-mails marketing" in form
    assert "Autres attributs" in form
    assert "Ajouter le contact" in form
    assert refused.status_code == 422
    text = html.unescape(refused.text)
    assert "Rien n’a été enregistré" in text
    assert "format international" in text
    assert saved.status_code == 303
    page = html.unescape(french.client.get(saved.headers["location"]).text)
    assert "Contact ajouté." in page
    assert "Modifier" in page
    # The consent source is stored in English, like the API's and an import's; read in French.
    assert contact_by_email(session, "lea@example.com").email_consent_source == "added by Marie"
    assert "ajouté par Marie" in page
    assert "Un contact avec l’e-mail lea@example.com existe déjà." in html.unescape(again.text)
    assert "Ouvrir ce contact" in html.unescape(again.text)


def test_a_french_user_adds_list_members_by_email_in_french(
    french: Browser, newsletter: ContactList
) -> None:
    send(french, "/contacts/new", add_form(email="a@example.com"))
    page = html.unescape(french.client.get("/lists/newsletter").text)
    response = french.post(
        "/lists/newsletter/members/add", {"emails": "a@example.com, x@example.com"}, htmx=True
    )
    empty = french.post("/lists/newsletter/members/add", {"emails": ""}, htmx=True)

    assert "E-mails des contacts" in page
    assert "Ajouter à la liste" in page
    text = html.unescape(response.text)
    assert "1 ajouté." in text
    assert "Aucun contact n’a cet e-mail (ajoutez-le d’abord) : x@example.com" in text
    assert "Collez au moins une adresse e-mail" in html.unescape(empty.text)


def test_a_french_user_is_warned_in_french_that_nobody_will_get_marketing(
    french: Browser,
) -> None:
    page = upload(french, b"Email\na@x.example\nb@x.example\nc@x.example\n")

    assert "ces 3 contacts ne recevront pas d’e-mails marketing" in html.unescape(page.text)


def test_a_contacts_page_and_a_lists_page_offer_to_enroll_them(
    logged_in: Browser, session: Session, newsletter: ContactList
) -> None:
    lea = add_lea(session)

    contact_page = logged_in.client.get(f"/contacts/{lea.id}").text
    list_page = logged_in.client.get("/lists/newsletter").text

    assert "Enroll in a scenario" in contact_page
    assert f'hx-get="/enroll?contact={lea.id}"' in contact_page
    assert "Enroll in a scenario" in list_page
    assert 'hx-get="/enroll?list=newsletter"' in list_page
