"""GDPR: a contact's export holds everything; erasure leaves only a hash of the email."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, func, select

from app.models import Contact, ContactList, Event, ListMembership, Suppression
from app.services.contacts.fields import email_hash


@pytest.fixture
def api(client: TestClient, api_key: str, redis: Any) -> TestClient:
    client.headers["Authorization"] = f"Bearer {api_key}"
    return client


@pytest.fixture
def lea(api: TestClient, session: Session) -> dict[str, Any]:
    session.add(ContactList(key="newsletter", name="Newsletter"))
    session.commit()
    contact = api.post(
        "/api/v1/contacts",
        json={
            "email": "lea@example.com",
            "first_name": "Léa",
            "attributes": {"city": "Lyon"},
            "lists": ["newsletter"],
            "consent": {"email": True},
        },
    ).json()["contact"]
    api.post(
        "/api/v1/events",
        json={"id": "o-1", "name": "purchase", "contact": {"email": "lea@example.com"}},
    )
    return contact


def test_the_export_holds_the_contact_lists_events_and_journeys(
    api: TestClient, lea: dict[str, Any]
) -> None:
    response = api.get(f"/api/v1/contacts/{lea['id']}/export")

    assert response.status_code == 200
    export = response.json()
    assert export["format"] == "parcours.contact-export"
    assert export["contact"]["email"] == "lea@example.com"
    assert export["contact"]["attributes"] == {"city": "Lyon"}
    assert export["contact"]["consent"]["email"]["granted"] is True
    assert [m["list"] for m in export["list_memberships"]] == ["newsletter"]
    assert {e["name"] for e in export["events"]} == {"contact_created", "list_added", "purchase"}
    assert export["enrollments"] == []
    assert set(export["messages"]) >= {"outbox"}


def test_erasure_deletes_the_contact_and_everything_personal_but_a_hash(
    api: TestClient, session: Session, lea: dict[str, Any]
) -> None:
    response = api.delete(f"/api/v1/contacts/{lea['id']}")

    assert response.status_code == 200
    assert response.json()["erased"] is True
    session.expire_all()
    assert session.get(Contact, lea["id"]) is None
    assert session.exec(select(func.count()).select_from(Event)).one() == 0
    assert session.exec(select(func.count()).select_from(ListMembership)).one() == 0
    suppression = session.exec(select(Suppression)).one()
    assert suppression.email_hash == email_hash("lea@example.com")
    assert "lea" not in suppression.email_hash
    assert api.get(f"/api/v1/contacts/{lea['id']}").status_code == 404
    assert api.delete(f"/api/v1/contacts/{lea['id']}").status_code == 404


def test_after_erasure_the_api_may_recreate_the_contact_but_never_grants_consent(
    api: TestClient, session: Session, lea: dict[str, Any]
) -> None:
    api.delete(f"/api/v1/contacts/{lea['id']}")

    response = api.post(
        "/api/v1/contacts", json={"email": "LEA@example.com", "consent": {"email": True}}
    )

    assert response.status_code == 201
    assert response.json()["suppressed"] is True
    assert response.json()["contact"]["consent"]["email"]["granted"] is False


def test_exporting_or_erasing_an_unknown_contact_gets_404(api: TestClient) -> None:
    assert api.get("/api/v1/contacts/424242/export").status_code == 404
    assert api.delete("/api/v1/contacts/424242").status_code == 404
