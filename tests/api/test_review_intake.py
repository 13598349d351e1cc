"""Review of the event intake (DESIGN §12.5): odd inputs and failures mid-group."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, func, select

from app.models import Contact, Event


@pytest.fixture
def api(client: TestClient, api_key: str, redis: Any) -> TestClient:
    client.headers["Authorization"] = f"Bearer {api_key}"
    return client


def test_two_new_emails_with_one_external_id_are_not_a_server_error(
    api: TestClient, session: Session
) -> None:
    events = [
        {"name": "login", "contact": {"email": "a@site.example", "external_id": "crm-1"}},
        {"name": "login", "contact": {"email": "b@site.example", "external_id": "crm-1"}},
    ]

    response = api.post("/api/v1/events/batch", json={"events": events})

    assert response.status_code == 202, response.text
    contacts = session.exec(select(Contact).order_by(Contact.email)).all()
    assert [(c.email, c.external_id) for c in contacts] == [
        ("a@site.example", "crm-1"),
        ("b@site.example", None),
    ]
    assert session.exec(select(func.count()).where(Event.name == "login")).one() == 2
