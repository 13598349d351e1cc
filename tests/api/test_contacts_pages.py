"""The contact, list, segment and import pages, driven through HTTP like a browser would."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlmodel import Session, func, select

from app.models import Contact, ContactImport, ContactList, Event, ImportStatus, Segment
from app.services.account.demo import add_demo_contacts
from tests.fixtures.web import Browser


@pytest.fixture
def demo(session: Session) -> None:
    add_demo_contacts(session, contacts=120)
    session.commit()


def test_contacts_page_pages_with_a_cursor_not_an_offset(logged_in: Browser, demo: None) -> None:
    first = logged_in.client.get("/contacts")
    assert first.status_code == 200
    assert "<strong>120</strong> contacts" in first.text
    assert "before=" in first.text
    cursor = first.text.split("before=")[1].split('"')[0]

    second = logged_in.client.get(f"/contacts?before={cursor}")

    assert second.status_code == 200
    assert "older ones" in second.text


def test_contacts_can_be_searched_and_filtered(
    logged_in: Browser, session: Session, demo: None
) -> None:
    lea = session.exec(select(Contact).order_by(Contact.id)).first()
    assert lea is not None
    assert lea.email is not None

    by_email = logged_in.client.get("/contacts", params={"q": lea.email[:12]})
    in_list = logged_in.client.get("/contacts", params={"in": "list:customers"})
    by_attribute = logged_in.client.get(
        "/contacts", params={"attribute": "orders_count", "op": "gte", "value": "5"}
    )
    broken = logged_in.client.get(
        "/contacts", params={"attribute": "orders_count", "op": "gte", "value": "lots"}
    )

    assert lea.email in by_email.text
    assert "in <strong>Customers</strong>" in in_list.text
    assert "Export list to CSV" in in_list.text
    assert by_attribute.status_code == 200
    assert "needs a number" in broken.text
    assert broken.status_code == 422


def test_htmx_filtering_answers_only_the_results(logged_in: Browser, demo: None) -> None:
    response = logged_in.client.get(
        "/contacts", params={"q": "nobody-like-this"}, headers={"HX-Request": "true"}
    )

    assert response.text.lstrip().startswith('<section class="card flush" id="contact-results">')
    assert "Nobody matches" in response.text


def test_a_contact_page_shows_profile_consent_lists_and_timeline(
    logged_in: Browser, session: Session, demo: None
) -> None:
    contact = session.exec(select(Contact)).first()
    assert contact is not None
    session.add(
        Event(
            uid="e1",
            contact_id=contact.id,
            name="purchase",
            properties={"total": 12},
            occurred_at=contact.created_at,
        )
    )
    session.commit()

    page = logged_in.client.get(f"/contacts/{contact.id}")

    assert page.status_code == 200
    assert contact.email in page.text
    assert "Consent" in page.text
    assert "purchase" in page.text
    assert "Erase (GDPR)" in page.text
    assert logged_in.client.get("/contacts/999999").status_code == 404


def test_erasing_from_the_page_deletes_the_contact(
    logged_in: Browser, session: Session, demo: None
) -> None:
    contact = session.exec(select(Contact)).first()
    assert contact is not None

    response = logged_in.post(f"/contacts/{contact.id}/erase", htmx=True)

    assert response.headers["HX-Redirect"] == "/contacts?erased=1"
    session.expire_all()
    assert session.get(Contact, contact.id) is None


def test_the_contact_data_export_downloads_as_json(
    logged_in: Browser, session: Session, demo: None
) -> None:
    contact = session.exec(select(Contact)).first()
    assert contact is not None

    response = logged_in.client.get(f"/contacts/{contact.id}/export")

    assert "attachment" in response.headers["content-disposition"]
    assert response.json()["contact"]["email"] == contact.email


def test_a_list_exports_to_csv(logged_in: Browser, session: Session, demo: None) -> None:
    members = session.exec(
        select(func.count()).select_from(Contact).where(Contact.email_consent)
    ).one()

    response = logged_in.client.get("/contacts/export.csv", params={"in": "list:newsletter"})

    lines = response.text.strip().splitlines()
    assert response.headers["content-type"].startswith("text/csv")
    assert lines[0].startswith("id,email,external_id,phone,first_name")
    assert "orders_count" in lines[0]
    assert len(lines) - 1 == members


def test_lists_can_be_created_from_the_page(logged_in: Browser, session: Session) -> None:
    created = logged_in.post("/lists", {"key": "vip", "name": "VIP"}, htmx=True)
    duplicate = logged_in.post("/lists", {"key": "vip", "name": "Again"}, htmx=True)

    assert "List “VIP” created" in created.text
    assert duplicate.status_code == 409
    assert "already exists" in duplicate.text
    assert session.exec(select(func.count()).select_from(ContactList)).one() == 1


def test_a_segment_is_built_counted_live_and_saved(
    logged_in: Browser, session: Session, demo: None
) -> None:
    condition = {"all": [{"attribute": "city", "op": "eq", "value": "Lyon"}]}
    lyon = session.exec(
        select(func.count()).select_from(Contact)
    ).one()  # upper bound; the exact figure comes from the segment API below

    editor = logged_in.client.get("/segments/new")
    preview = logged_in.post("/segments/preview", {"condition": json.dumps(condition)}, htmx=True)
    incomplete = logged_in.post(
        "/segments/preview",
        {"condition": json.dumps({"all": [{"attribute": "city", "op": "eq"}]})},
        htmx=True,
    )
    saved = logged_in.post(
        "/segments",
        {"key": "lyon", "name": "Lyon", "description": "", "condition": json.dumps(condition)},
    )

    assert "data-cb" in editor.text
    assert "contacts match now" in preview.text
    number = int(preview.text.split('class="live-number">')[1].split("<")[0].replace(",", ""))
    assert 0 < number < lyon
    assert "needs a value" in incomplete.text
    assert saved.status_code == 303
    assert saved.headers["location"] == "/segments/lyon?saved=1"
    assert session.exec(select(Segment)).one().condition == condition
    listing = logged_in.client.get("/segments")
    assert "city = &#39;Lyon&#39;" in listing.text
    count = logged_in.client.get("/segments/lyon/count")
    assert count.text == f'<span class="num">{number:,}</span>'


def test_an_invalid_segment_is_shown_again_with_the_reason(
    logged_in: Browser, session: Session
) -> None:
    response = logged_in.post(
        "/segments",
        {"key": "Bad Key!", "name": "x", "condition": json.dumps({"all": []})},
    )

    assert response.status_code == 422
    assert "cannot be used as a key" in response.text
    assert session.exec(select(func.count()).select_from(Segment)).one() == 0


def upload(logged_in: Browser, content: bytes, name: str = "shop.csv") -> Any:
    return logged_in.client.post(
        "/contacts/import",
        files={"file": (name, content, "text/csv")},
        data={"csrf_token": logged_in.csrf},
    )


def test_an_upload_is_previewed_with_guessed_columns(logged_in: Browser, session: Session) -> None:
    response = upload(logged_in, b"Email,First name,Orders\na@x.example,Ann,3\nb@x.example,Bob,1\n")

    assert response.status_code == 303
    page = logged_in.client.get(response.headers["location"])
    assert "What does each column hold?" in page.text
    assert "Ann" in page.text
    upload_row = session.exec(select(ContactImport)).one()
    assert upload_row.total_rows == 2
    assert upload_row.mapping["Email"] == {"field": "email"}
    assert upload_row.mapping["Orders"] == {
        "field": "attribute",
        "name": "orders",
        "type": "number",
    }


@pytest.mark.parametrize(
    ("content", "words"),
    [(b"", "empty"), (b"Email\n", "no contacts"), (b"Email,Email\na,b\n", "same name")],
)
def test_a_bad_upload_is_refused_in_plain_words(
    logged_in: Browser, session: Session, content: bytes, words: str
) -> None:
    response = upload(logged_in, content)

    assert response.status_code == 422
    assert words in response.text
    assert session.exec(select(func.count()).select_from(ContactImport)).one() == 0


def test_starting_needs_an_email_column(logged_in: Browser, session: Session) -> None:
    location = upload(logged_in, b"Email,Name\na@x.example,Ann\n").headers["location"]
    import_id = location.rsplit("/", 1)[1]

    refused = logged_in.post(
        f"/contacts/imports/{import_id}/start", {"field_0": "ignore", "field_1": "first_name"}
    )

    assert refused.status_code == 422
    assert "column that holds the email" in refused.text
    assert session.exec(select(ContactImport)).one().status == ImportStatus.mapping


def test_the_tracking_page_gives_a_snippet_with_a_site_key(
    logged_in: Browser, api_key: str
) -> None:
    page = logged_in.client.get("/contacts/tracking")

    assert 'data-key="site_' in page.text
    assert api_key not in page.text
