"""The Forms section: an empty state, the builder creating and changing a form, what was
typed kept when a form is refused, the snippet to copy, and the navigation link."""

from __future__ import annotations

from sqlmodel import Session, select

from app.models import ContactList, MessagePurpose, MessageTemplate, SignupForm
from tests.fixtures.web import Browser

BUILT = {
    "name": "Newsletter signup",
    "label_email": "Your email",
    "ask_first_name": "1",
    "label_first_name": "Your first name",
    "required_first_name": "1",
    "attr_name_0": "city",
    "attr_label_0": "Your city",
    "attr_name_1": "",
    "consent_text": "I agree to receive the newsletter.",
    "double_opt_in": "1",
    "lists": "newsletter",
    "thank_you": "Thank you!",
    "language": "",
}


def test_the_forms_page_starts_empty_and_is_in_the_navigation(logged_in: Browser) -> None:
    page = logged_in.client.get("/forms")

    assert page.status_code == 200
    assert "No forms yet" in page.text
    assert 'data-testid="nav-forms"' in page.text


def test_the_builder_creates_a_form_and_shows_how_to_put_it_on_a_site(
    logged_in: Browser, session: Session
) -> None:
    session.add(ContactList(key="newsletter", name="Newsletter"))
    session.commit()

    created = logged_in.post("/forms/new", BUILT)

    assert created.status_code == 303
    assert created.headers["location"] == "/forms/newsletter-signup?saved=1"
    form = session.exec(select(SignupForm)).one()
    assert [f["name"] for f in form.fields] == ["email", "first_name", "city"]
    assert form.fields[1] == {"name": "first_name", "label": "Your first name", "required": True}
    assert form.lists == ["newsletter"]
    page = logged_in.client.get(created.headers["location"])
    assert "Form saved" in page.text
    # Its confirmation emails (one per language, the visitor's being either) can be reworded.
    assert 'href="/messages/signup-confirmation"' in page.text
    assert 'href="/messages/signup-confirmation-fr"' in page.text
    assert "confirmation-unfit" not in page.text
    marketing = session.exec(
        select(MessageTemplate).where(MessageTemplate.key == "signup-confirmation")
    ).one()
    marketing.purpose = MessagePurpose.marketing
    session.commit()
    warned = logged_in.client.get("/forms/newsletter-signup").text
    assert "must stay a transactional email" in warned
    assert "&lt;iframe src=&#34;http://testserver/f/newsletter-signup&#34;" in page.text
    assert "Newsletter signup" in logged_in.client.get("/forms").text


def test_the_builder_changes_a_form_but_never_its_key_and_deletes_it(
    logged_in: Browser, session: Session
) -> None:
    session.add(ContactList(key="newsletter", name="Newsletter"))
    session.commit()
    logged_in.post("/forms/new", BUILT)

    changed = logged_in.post(
        "/forms/newsletter-signup", {**BUILT, "name": "Join us", "key": "other", "lists": ""}
    )

    assert changed.status_code == 303
    session.expire_all()
    form = session.exec(select(SignupForm)).one()
    assert (form.key, form.name, form.lists) == ("newsletter-signup", "Join us", [])
    assert logged_in.post("/forms/newsletter-signup/delete").status_code == 303
    assert logged_in.client.get("/f/newsletter-signup").status_code == 404
    assert logged_in.client.get("/forms/newsletter-signup").status_code == 404


def test_a_refused_form_keeps_what_was_typed_and_says_why(
    logged_in: Browser, session: Session
) -> None:
    answer = logged_in.post(
        "/forms/new", {**BUILT, "lists": "", "redirect_url": "javascript:alert(1)"}
    )

    assert answer.status_code == 422
    assert "must start with https://" in answer.text
    assert 'value="Newsletter signup"' in answer.text
    assert 'value="Your city"' in answer.text
    assert session.exec(select(SignupForm)).first() is None


def test_the_builder_speaks_french(french: Browser) -> None:
    page = french.client.get("/forms/new")

    assert "Nouveau formulaire d’inscription" in page.text
    assert "Double opt-in : demander une confirmation" in page.text


def test_the_forms_pages_need_a_login(client) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/forms").status_code == 303
    assert client.get("/contacts/1/consent-proofs").status_code == 303


def test_what_a_marketer_types_is_shown_escaped_everywhere(
    logged_in: Browser, session: Session
) -> None:
    evil = '"><script>alert(1)</script><img src=x onerror=alert(2)>'
    built = {**BUILT, "lists": "", "name": evil, "label_first_name": evil, "attr_label_0": evil}
    created = logged_in.post("/forms/new", {**built, "consent_text": evil, "thank_you": evil})
    key = created.headers["location"].split("/")[2].split("?")[0]

    for path in ("/forms", f"/forms/{key}", f"/f/{key}"):
        page = logged_in.client.get(path).text
        assert "<script>alert(1)" not in page, path
        assert "<img src=x" not in page, path
    answers = {"email": "a@example.com", "first_name": "Léa", "consent": "1"}
    thanks = logged_in.client.post(f"/f/{key}", data=answers)
    assert "Check your inbox" in thanks.text
    assert "<script>alert(1)" not in thanks.text
