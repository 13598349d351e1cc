"""The public site key: budgets of its own, per key and per client address; write-only events.

Anyone can read the site key in the shop's pages, so what it can do is kept small: it cannot
use up the server API key's budget, a single address cannot use up the site's, and it may
create an unknown visitor but never change an existing contact.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from sqlmodel import Session, func, select
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from app.clock import FrozenClock
from app.config import Settings
from app.models import Contact, Event
from app.routes.api.intake import ingest_rate_limit, rate_limit
from app.services.account.tracking_keys import site_keys
from app.services.contacts.contacts import upsert_contact
from app.services.contacts.fields import contact_data

NOW = datetime(2026, 3, 1, 12, 0, 2, tzinfo=UTC)


@pytest.fixture
def site_key(session: Session, settings: Settings, api_key: str, redis: Any) -> str:
    return site_keys(session, settings)[0][1]


@pytest.fixture
def limits(app: FastAPI) -> Settings:
    """The app's settings on a frozen clock, so every request falls in one window."""
    app.state.clock = FrozenClock(NOW)
    settings: Settings = app.state.settings
    return settings


def track(client: TestClient, key: str, n: int = 0, **headers: str) -> Any:
    body = {"key": key, "contact": {"email": f"v{n}@site.example"}, "events": [{"name": "v"}]}
    return client.post(
        "/api/track",
        content=json.dumps(body),
        headers={"Content-Type": "text/plain", **headers},
    )


def purchase(n: int) -> dict[str, Any]:
    return {"id": f"o-{n}", "name": "purchase", "contact": {"email": f"b{n}@shop.example"}}


def test_a_flood_through_the_site_key_gets_429_while_the_api_key_still_works(
    client: TestClient, limits: Settings, site_key: str, api_key: str
) -> None:
    limits.api_rate_limit = 5
    limits.site_rate_limit_per_address = 3

    answers = [track(client, site_key, n).status_code for n in range(10)]

    assert answers == [202] * 3 + [429] * 7
    refused = track(client, site_key)
    assert refused.headers["Retry-After"] == "8"  # the window ends at 12:00:10
    assert refused.headers["Access-Control-Allow-Origin"] == "*"  # the page's script can read it
    assert "from your address" in refused.json()["detail"]
    server = {"Authorization": f"Bearer {api_key}"}
    assert client.post("/api/v1/events", json=purchase(1), headers=server).status_code == 202
    assert client.get("/api/v1/whoami", headers=server).status_code == 200


def test_the_site_key_has_one_budget_for_all_its_visitors(
    app: FastAPI, limits: Settings, site_key: str
) -> None:
    limits.site_rate_limit = 4
    limits.site_rate_limit_per_address = 100

    with behind_a_proxy(app) as proxy:
        answers = [
            track(proxy, site_key, n, **{"X-Forwarded-For": f"198.51.100.{n}"}).status_code
            for n in range(6)
        ]
        refused = track(proxy, site_key, 9, **{"X-Forwarded-For": "198.51.100.9"})

    assert answers == [202] * 4 + [429] * 2
    assert "for this site key" in refused.json()["detail"]


def test_behind_a_trusted_proxy_each_client_address_has_its_own_budget(
    app: FastAPI, limits: Settings, site_key: str
) -> None:
    limits.site_rate_limit_per_address = 2

    def answers(proxy: TestClient, address: str) -> list[int]:
        forwarded = {"X-Forwarded-For": address}
        return [track(proxy, site_key, n, **forwarded).status_code for n in range(3)]

    with behind_a_proxy(app) as proxy:
        first = answers(proxy, "198.51.100.7")
        second = answers(proxy, "198.51.100.8")
        one_ipv6_address = answers(proxy, "2001:db8:1:2::1")
        same_ipv6_block = answers(proxy, "2001:db8:1:2::9")
        other_ipv6_block = answers(proxy, "2001:db8:1:3::1")

    assert first == second == [202, 202, 429]
    assert one_ipv6_address == [202, 202, 429]
    assert same_ipv6_block == [429, 429, 429]  # one subscriber's /64 counts as one address
    assert other_ipv6_block == [202, 202, 429]


def test_a_forged_forwarded_for_header_does_not_get_a_fresh_budget(
    client: TestClient, limits: Settings, site_key: str
) -> None:
    limits.site_rate_limit_per_address = 2

    answers = [
        track(client, site_key, n, **{"X-Forwarded-For": f"203.0.113.{n}"}).status_code
        for n in range(4)
    ]

    assert answers == [202, 202, 429, 429]


def behind_a_proxy(app: FastAPI) -> TestClient:
    """The app as ``parcours web`` serves it behind a reverse proxy it trusts
    (uvicorn's proxy headers with FORWARDED_ALLOW_IPS holding the proxy's address)."""
    return TestClient(ProxyHeadersMiddleware(app, trusted_hosts="testclient"))  # type: ignore[arg-type]


def test_the_site_key_never_changes_an_existing_contact(
    client: TestClient, session: Session, site_key: str
) -> None:
    now = datetime.now(UTC)
    data = contact_data(
        email="lea@shop.example",
        attributes={"first_name": "Léa", "last_name": "Martin", "plan": "gold"},
        now=now,
        source="api",
    )
    contact = upsert_contact(session, data, now=now, source="api").contact
    session.commit()
    before = (contact.first_name, contact.last_name, dict(contact.attributes), contact.updated_at)

    renamed = post_json(
        client,
        {
            "key": site_key,
            "contact": {"email": "LEA@shop.example", "first_name": "Mallory", "last_name": "X"},
            "identify": True,
            "events": [{"name": "page_view", "properties": {"path": "/"}}],
        },
    )
    with_attributes = post_json(
        client,
        {
            "key": site_key,
            "contact": {"email": "lea@shop.example", "attributes": {"plan": "free"}},
            "identify": True,
        },
    )

    assert renamed.status_code == 202
    assert with_attributes.status_code == 422
    session.refresh(contact)
    after = (contact.first_name, contact.last_name, dict(contact.attributes), contact.updated_at)
    assert after == before
    names = session.exec(select(Event.name).where(Event.contact_id == contact.id)).all()
    assert sorted(names) == ["contact_created", "page_view"]  # the visit, and no change


def test_the_site_key_still_names_a_visitor_it_creates(
    client: TestClient, session: Session, site_key: str
) -> None:
    response = post_json(
        client,
        {
            "key": site_key,
            "contact": {"email": "new@site.example", "first_name": "Noé", "last_name": "Petit"},
            "identify": True,
        },
    )

    assert response.status_code == 202
    contact = session.exec(select(Contact)).one()
    assert (contact.email, contact.first_name, contact.last_name) == (
        "new@site.example",
        "Noé",
        "Petit",
    )
    names = session.exec(select(Event.name).where(Event.contact_id == contact.id)).all()
    assert names == ["contact_created"]


@pytest.mark.parametrize(
    "name",
    [
        "email_opened",
        "Email_Opened",
        "EMAIL_CLICKED",
        "email_unsubscribed",
        "List_Added",
        " Contact_Created ",
    ],
)
def test_names_parcours_records_itself_are_refused_from_the_site_and_the_api(
    client: TestClient, session: Session, site_key: str, api_key: str, name: str
) -> None:
    from_site = post_json(
        client,
        {"key": site_key, "contact": {"email": "a@site.example"}, "events": [{"name": name}]},
    )
    from_api = client.post(
        "/api/v1/events",
        json={"name": name, "contact": {"email": "a@site.example"}},
        headers={"Authorization": f"Bearer {api_key}"},
    )

    assert from_site.status_code == 422
    assert "recorded by Parcours itself" in from_site.json()["detail"]
    assert from_api.status_code == 422
    error = from_api.json()["detail"]["errors"][0]
    assert error["field"] == "name"
    assert "recorded by Parcours itself" in error["reason"]
    assert session.exec(select(func.count()).select_from(Event)).one() == 0
    assert session.exec(select(func.count()).select_from(Contact)).one() == 0


def post_json(client: TestClient, body: dict[str, Any]) -> Any:
    return client.post(
        "/api/track", content=json.dumps(body), headers={"Content-Type": "text/plain"}
    )


def test_every_api_route_counts_against_the_key_budget(app: FastAPI) -> None:
    limited = {rate_limit, ingest_rate_limit}
    routes = [r for r in iter_route_contexts(app.routes) if (r.path or "").startswith("/api/v1")]

    unlimited = [
        f"{sorted(route.methods or ())} {route.path}"
        for route in routes
        if not limited & set(dependency_calls(route.dependant))
    ]

    assert unlimited == []
    paths = {route.path for route in routes}
    assert {"/api/v1/whoami", "/api/v1/messages", "/api/v1/scenario-templates"} <= paths
    assert len(routes) > 30  # the walk saw the whole API


def dependency_calls(dependant: Any) -> Iterator[Any]:
    for sub in dependant.dependencies:
        yield sub.call
        yield from dependency_calls(sub)


def test_routes_that_had_no_limit_now_get_429_past_the_key_budget(
    client: TestClient, limits: Settings, api_key: str, redis: Any
) -> None:
    limits.api_rate_limit = 4
    client.headers["Authorization"] = f"Bearer {api_key}"
    paths = [
        "/api/v1/whoami",
        "/api/v1/messages",
        "/api/v1/scenarios",
        "/api/v1/scenario-templates",
    ]

    first = [client.get(path).status_code for path in paths]
    second = [client.get(path) for path in paths]

    assert first == [200] * 4
    assert [r.status_code for r in second] == [429] * 4
    assert all(r.headers["Retry-After"] == "8" for r in second)
