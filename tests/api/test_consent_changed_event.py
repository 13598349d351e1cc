"""A consent given or withdrawn through the API is recorded as ``consent_changed``, as every
other change of a contact is (a wait for a condition on consent hears it); clients may not
send that name, and the contact's timeline says it in words."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session

from tests.api.test_contacts_api import api, events_of  # noqa: F401 - the fixture
from tests.fixtures.web import Browser


def test_a_consent_change_is_recorded_once_with_its_channel(
    api: TestClient,  # noqa: F811
    session: Session,
) -> None:
    created = api.post("/api/v1/contacts", json={"email": "c@example.com"}).json()["contact"]
    for consent in ({"sms": True}, {"sms": True}, {"sms": False, "email": False}):
        api.post("/api/v1/contacts", json={"email": "c@example.com", "consent": consent})

    changes = [p for name, p in events_of(session, created["id"]) if name == "consent_changed"]
    assert changes == [{"channel": "sms", "from": False, "to": True},
                       {"channel": "sms", "from": True, "to": False}]  # fmt: skip


def test_clients_may_not_send_a_consent_change_of_their_own(api: TestClient) -> None:  # noqa: F811
    response = api.post(
        "/api/v1/events", json={"name": "Consent_Changed", "contact": {"email": "a@b.ex"}}
    )

    assert response.status_code == 422
    assert "recorded by Parcours itself" in response.json()["detail"]["errors"][0]["reason"]


def test_the_timeline_says_the_consent_change_in_words(
    api: TestClient,  # noqa: F811
    logged_in: Browser,
) -> None:
    contact: dict[str, Any] = api.post(
        "/api/v1/contacts", json={"email": "t@example.com", "consent": {"sms": False}}
    ).json()["contact"]
    api.post("/api/v1/contacts", json={"email": "t@example.com", "consent": {"sms": True}})

    page = logged_in.client.get(f"/contacts/{contact['id']}")

    assert page.status_code == 200
    assert "SMS consent granted" in page.text
