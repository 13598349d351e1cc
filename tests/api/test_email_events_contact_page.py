"""The contact's page says when and why the address bounced or complained, in the reader's
language, and a marketer can reset it."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlmodel import Session

from app.models import Contact
from tests.api.test_contacts_api import api  # noqa: F401 - the fixture
from tests.api.test_contacts_by_hand import add_form, send
from tests.fixtures.web import Browser

GONE = "550 5.1.1 user unknown"


def _bounced(api: TestClient) -> int:  # noqa: F811
    body = {"email": "gone@example.com", "external_id": "G1", "consent": {"email": True}}
    contact_id = int(api.post("/api/v1/contacts", json=body).json()["contact"]["id"])
    report = {"type": "bounce", "email": "gone@example.com", "reason": GONE}
    assert api.post("/api/v1/email-events", json=report).json()["bounced"] == 1
    return contact_id


def test_the_page_says_when_and_why_the_address_bounced_and_reset_clears_it(
    api: TestClient,  # noqa: F811
    logged_in: Browser,
    session: Session,
) -> None:
    contact_id = _bounced(api)

    page = logged_in.client.get(f"/contacts/{contact_id}")
    assert "This address bounced on February 1, 2026: “550 5.1.1 user unknown”" in page.text
    assert 'data-testid="reset-email-status"' in page.text

    reset = logged_in.post(f"/contacts/{contact_id}/email-status/reset")

    assert reset.status_code == 303
    page = logged_in.client.get(reset.headers["location"])
    assert "This address bounced" not in page.text
    assert "The address is marked as working again." in page.text
    session.expire_all()
    contact = session.get(Contact, contact_id)
    assert contact is not None
    assert (contact.email_status, contact.email_status_reason) == (None, None)


def test_the_french_page_says_it_in_french(
    api: TestClient,  # noqa: F811
    french: Browser,
) -> None:
    contact_id = _bounced(api)

    page = french.client.get(f"/contacts/{contact_id}")

    assert "Cette adresse a été rejetée le 1 février 2026 : « 550 5.1.1 user unknown »" in page.text
    assert "Réinitialiser" in page.text


def test_a_complaint_reads_as_such_on_the_page(
    api: TestClient,  # noqa: F811
    logged_in: Browser,
) -> None:
    body = {"email": "angry@example.com", "consent": {"email": True}}
    contact_id = api.post("/api/v1/contacts", json=body).json()["contact"]["id"]
    api.post("/api/v1/email-events", json={"type": "complaint", "email": "angry@example.com"})

    page = logged_in.client.get(f"/contacts/{contact_id}")

    assert "This person marked one of your emails as spam on February 1, 2026." in page.text


def test_reset_needs_the_csrf_token_and_a_login(
    api: TestClient,  # noqa: F811
    logged_in: Browser,
    session: Session,
) -> None:
    contact_id = _bounced(api)

    refused = logged_in.client.post(f"/contacts/{contact_id}/email-status/reset")

    assert refused.status_code == 403
    session.expire_all()
    contact = session.get(Contact, contact_id)
    assert contact is not None
    assert contact.email_status == "bounced"
    assert logged_in.post("/contacts/999999/email-status/reset").status_code == 404


def test_editing_the_email_by_hand_clears_the_bounce(
    api: TestClient,  # noqa: F811
    logged_in: Browser,
    session: Session,
) -> None:
    contact_id = _bounced(api)

    edited = send(logged_in, f"/contacts/{contact_id}/edit", add_form(email="found@example.com"))

    assert edited.status_code == 303
    session.expire_all()
    contact = session.get(Contact, contact_id)
    assert contact is not None
    assert (contact.email, contact.email_status, contact.email_soft_bounces) == (
        "found@example.com",
        None,
        0,
    )
    assert "This address bounced" not in logged_in.client.get(f"/contacts/{contact_id}").text


def test_the_contacts_list_marks_a_bounced_address(
    api: TestClient,  # noqa: F811
    logged_in: Browser,
) -> None:
    _bounced(api)

    listing = logged_in.client.get("/contacts")

    assert 'data-testid="email-bounced"' in listing.text


def test_a_providers_words_are_shown_as_text_never_as_markup(
    api: TestClient,  # noqa: F811
    logged_in: Browser,
) -> None:
    contact_id = api.post("/api/v1/contacts", json={"email": "x@example.com"}).json()["contact"][
        "id"
    ]
    reason = '550 <script>alert("x")</script> user unknown'
    api.post(
        "/api/v1/email-events", json={"type": "bounce", "email": "x@example.com", "reason": reason}
    )

    page = logged_in.client.get(f"/contacts/{contact_id}").text

    assert "<script>alert" not in page
    assert "&lt;script&gt;alert" in page
