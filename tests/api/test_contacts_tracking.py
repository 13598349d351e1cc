"""The website snippet's public endpoint: site-key scoped, write-only, CORS-friendly."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, func, select

from app.config import Settings
from app.models import ApiKey, Contact, Event
from app.services.account.api_keys import revoke_api_key
from app.services.account.tracking_keys import site_keys


@pytest.fixture
def site_key(session: Session, settings: Settings, api_key: str, redis: Any) -> str:
    return site_keys(session, settings)[0][1]


def post(client: TestClient, body: dict[str, Any]) -> Any:
    # The snippet sends text/plain (no CORS preflight); the body is JSON all the same.
    return client.post(
        "/api/track", content=json.dumps(body), headers={"Content-Type": "text/plain"}
    )


def test_identify_creates_the_contact_and_flushes_the_waiting_events(
    client: TestClient, session: Session, site_key: str
) -> None:
    response = post(
        client,
        {
            "key": site_key,
            "contact": {"email": "Visitor@Site.example", "first_name": "Vi"},
            "identify": True,
            "events": [
                {"id": "ev-1", "name": "page_view", "properties": {"path": "/"}},
                {"id": "ev-2", "name": "cart_updated", "properties": {"total": 20}},
            ],
        },
    )

    assert response.status_code == 202
    assert response.headers["access-control-allow-origin"] == "*"
    contact = session.exec(select(Contact)).one()
    assert (contact.email, contact.first_name) == ("visitor@site.example", "Vi")
    assert contact.email_consent is False
    names = session.exec(select(Event.name).where(Event.contact_id == contact.id)).all()
    assert sorted(names) == ["cart_updated", "contact_created", "page_view"]


def test_the_same_event_sent_twice_is_stored_once(
    client: TestClient, session: Session, site_key: str
) -> None:
    body = {
        "key": site_key,
        "contact": {"email": "a@site.example"},
        "events": [{"id": "x", "name": "purchase"}],
    }

    assert post(client, body).status_code == 202
    assert post(client, body).status_code == 202

    assert session.exec(select(func.count()).where(Event.name == "purchase")).one() == 1


def test_a_preflight_is_answered(client: TestClient) -> None:
    response = client.options("/api/track")

    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == "*"


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"key": "site_wrong", "contact": {"email": "a@b.example"}}, 401),
        ({"key": "SITE", "contact": {"email": "a@b.example"}}, 401),
        ({"contact": {"email": "a@b.example"}}, 422),
        ({"key": "K", "contact": {"email": "not-an-email"}}, 422),
        ({"key": "K", "contact": {}}, 422),
        ({"key": "K", "contact": {"email": "a@b.example"}, "consent": {"email": True}}, 422),
        ({"key": "K", "contact": {"email": "a@b.example", "score": 99}}, 422),
        (
            {"key": "K", "contact": {"email": "a@b.example"}, "events": [{"name": "list_added"}]},
            422,
        ),
        ({"key": "K", "contact": {"email": "a@b.example"}, "events": [{"name": "v"}] * 51}, 422),
    ],
)
def test_bad_calls_are_refused_and_write_nothing(
    client: TestClient, session: Session, site_key: str, body: dict[str, Any], status: int
) -> None:
    if body.get("key") == "K":
        body = {**body, "key": site_key}

    response = post(client, body)

    assert response.status_code == status
    assert session.exec(select(func.count()).select_from(Event)).one() == 0
    assert session.exec(select(func.count()).select_from(Contact)).one() == 0


def test_the_secret_api_key_does_not_work_as_a_site_key(
    client: TestClient, session: Session, api_key: str, redis: Any
) -> None:
    response = post(client, {"key": api_key, "contact": {"email": "a@b.example"}})

    assert response.status_code == 401


def test_revoking_the_api_key_revokes_its_site_key(
    client: TestClient, session: Session, site_key: str
) -> None:
    key = session.exec(select(ApiKey)).one()
    assert key.id is not None
    revoke_api_key(session, key.id)
    session.commit()

    response = post(client, {"key": site_key, "contact": {"email": "a@b.example"}})

    assert response.status_code == 401


def test_the_snippet_and_the_example_page_are_served(client: TestClient) -> None:
    snippet = client.get("/static/js/parcours-track.js")
    example = client.get("/static/examples/shop.html")

    assert snippet.status_code == 200
    assert "sendBeacon" in snippet.text
    assert "/api/track" in snippet.text
    assert example.status_code == 200
    assert "parcours-track.js" in example.text
