"""Odd input on the issue-14 pages is refused in plain words, never answered 500, and a pasted
flood of emails is refused before it costs the server (issue 14 review)."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

import pytest
from sqlmodel import Session, func, select

from app.models import Contact, ContactList, Enrollment, ListMembership
from app.services.contacts import by_hand
from tests.fixtures.web import Browser

# str.isdigit() says yes to these, int() says no (or they are past an INTEGER id).
ODD_DIGITS = ("²", "①", "9" * 30)


@pytest.fixture
def newsletter(session: Session) -> ContactList:
    found = ContactList(key="newsletter", name="Newsletter")
    session.add(found)
    session.add(Contact(email="ada@example.com"))
    session.commit()
    return found


@pytest.mark.parametrize("odd", ODD_DIGITS)
def test_the_enroll_box_refuses_odd_digits_in_words(
    logged_in: Browser, newsletter: ContactList, session: Session, odd: str
) -> None:
    htmx = {"HX-Request": "true"}
    box = logged_in.client.get("/enroll", params={"scenario": odd}, headers=htmx)
    asked = logged_in.client.get("/enroll", params={"contact": odd}, headers=htmx)
    preview = logged_in.client.get(
        "/enroll/preview", params={"scenario": odd, "who": "list:newsletter"}, headers=htmx
    )
    confirm = logged_in.post("/enroll", {"scenario": odd, "list": "newsletter"}, htmx=True)
    by_contact = logged_in.post("/enroll", {"scenario": "1", "contact": odd}, htmx=True)

    assert box.status_code == 200
    assert "This scenario is not known." in box.text
    assert asked.status_code == 200
    assert "This contact is not known." in asked.text
    assert preview.status_code == 422
    assert "This scenario is not known." in preview.text
    assert confirm.status_code == 422
    assert "This scenario is not known." in confirm.text
    assert by_contact.status_code == 422
    assert "This contact is not known." in by_contact.text
    assert session.exec(select(func.count()).select_from(Enrollment)).one() == 0


@pytest.mark.parametrize("odd", ODD_DIGITS)
def test_the_message_preview_ignores_an_odd_contact_id(logged_in: Browser, odd: str) -> None:
    form = {"name": "Hi", "channel": "email", "subject": "Hello", "html": "<p>Hi</p>"}

    response = logged_in.post("/messages/preview", {**form, "contact_id": odd}, htmx=True)

    assert response.status_code == 200
    assert "Hello" in response.text


def test_a_flood_of_pasted_emails_is_refused_before_reading_them_all(
    logged_in: Browser, newsletter: ContactList, session: Session, monkeypatch: Any
) -> None:
    read: list[str] = []
    normalize = by_hand.normalize_email

    def counting(raw: str) -> str | None:
        read.append(raw)
        return normalize(raw)

    monkeypatch.setattr(by_hand, "normalize_email", counting)
    flood = "\n".join(f"n{i}@example.com" for i in range(20_000))

    response = logged_in.post("/lists/newsletter/members/add", {"emails": flood}, htmx=True)

    assert response.status_code == 422
    assert "At most 1000 emails at once" in response.text
    assert len(read) == by_hand.MAX_EMAILS_AT_ONCE + 1  # not all 20,000
    assert session.exec(select(func.count()).select_from(ListMembership)).one() == 0


def test_pasted_emails_are_reported_in_the_order_pasted(
    logged_in: Browser, newsletter: ContactList, session: Session
) -> None:
    session.add(Contact(email="b@example.com"))
    session.commit()
    pasted = "zed@example.com, ADA@example.com; b@example.com\nnot-an-email\namy@example.com"

    response = logged_in.post("/lists/newsletter/members/add", {"emails": pasted}, htmx=True)

    assert response.status_code == 200
    assert "2 added." in response.text
    assert "zed@example.com, amy@example.com" in response.text  # unknown, as pasted
    assert "not-an-email" in response.text
    assert session.exec(select(func.count()).select_from(ListMembership)).one() == 2


class FormFields(HTMLParser):
    """The fields a browser would send for a form as the page renders it."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.fields: list[tuple[str, str]] = []
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "input" and a.get("name"):
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                return
            self.fields.append((str(a["name"]), a.get("value") or ""))
        elif tag == "select":
            self._select = a.get("name")
        elif tag == "option" and self._select and "selected" in a:
            self.fields.append((self._select, a.get("value") or ""))


def test_editing_a_contact_with_many_attributes_keeps_them_all(
    logged_in: Browser, session: Session
) -> None:
    """A contact may hold more attributes than a form used to read (100): saving the edit form
    as shown changed nothing but what was typed, instead of dropping those past the 100th."""
    attributes: dict[str, Any] = {f"field_{n:03}": n for n in range(150)}
    attributes |= {"vip": True, "city": "Lyon"}
    lea = Contact(email="lea@example.com", attributes=attributes)
    session.add(lea)
    session.commit()

    page = logged_in.client.get(f"/contacts/{lea.id}/edit")
    parsed = FormFields()
    parsed.feed(page.text)
    sent: dict[str, list[str]] = {"csrf_token": [logged_in.csrf]}
    for name, value in parsed.fields:
        if name != "csrf_token":
            sent.setdefault(name, []).append("Paris" if value == "Lyon" else value)
    response = logged_in.client.post(f"/contacts/{lea.id}/edit", data=sent)

    assert response.status_code == 303, response.text
    session.expire_all()
    saved = session.get(Contact, lea.id)
    assert saved is not None
    assert saved.attributes == attributes | {"city": "Paris"}


def test_a_form_cannot_add_more_attributes_at_once_than_the_api(
    logged_in: Browser, session: Session
) -> None:
    rows = by_hand.MAX_NEW_ATTRIBUTES + 1
    form = {"email": "many@example.com", "csrf_token": logged_in.csrf}
    for n in range(rows):
        form |= {f"attr_name_{n}": f"f{n}", f"attr_value_{n}": "1", f"attr_kind_{n}": "number"}

    response = logged_in.client.post("/contacts/new", data=form)

    assert response.status_code == 422
    assert "at most 200 attributes can be sent at once" in response.text
    assert session.exec(select(func.count()).select_from(Contact)).one() == 0
