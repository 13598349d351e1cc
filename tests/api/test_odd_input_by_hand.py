"""Odd input on the issue-14 pages is refused in plain words, never answered 500, and a pasted
flood of emails is refused before it costs the server (issue 14 review)."""

from __future__ import annotations

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
