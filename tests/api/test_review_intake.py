"""Review of the event intake (DESIGN §12.5): odd inputs and failures mid-group."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from fastapi.testclient import TestClient
from redis.asyncio import Redis
from sqlmodel import Session, func, select

from app.models import Contact, Event
from app.routes.api.key_budget import KeyBudgets

JSON = {"Content-Type": "application/json"}


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


@pytest.mark.parametrize("number", ["1e999", "-1.5E+400", "9" * 400 + ".5"])
def test_a_number_too_large_for_a_double_is_a_422_and_nothing_is_stored(
    api: TestClient, session: Session, number: str
) -> None:
    # Read as infinity, it failed PostgreSQL's JSON at the insert (a 500) and was stored on
    # SQLite as a JSON text its own functions cannot read.
    event = '{"name": "x", "contact": {"email": "n@site.example"}, "properties": {"a": [%s]}}'
    single = api.post("/api/v1/events", content=event % number, headers=JSON)
    batch = api.post(
        "/api/v1/events/batch",
        content='{"events": [' + event % 1 + ", " + event % number + "]}",
        headers=JSON,
    )

    assert single.status_code == 422, single.text
    assert single.json()["detail"]["errors"][0]["field"] == "properties"
    assert batch.status_code == 422, batch.text
    assert batch.json()["detail"]["errors"][0]["index"] == 1
    assert session.exec(select(func.count()).select_from(Event)).one() == 0
    assert session.exec(select(func.count()).select_from(Contact)).one() == 0


def test_a_large_finite_number_is_still_taken(api: TestClient, session: Session) -> None:
    event = '{"name": "x", "contact": {"email": "n@site.example"}, "properties": {"a": 1e300}}'
    assert api.post("/api/v1/events", content=event, headers=JSON).status_code == 202


async def test_a_redis_that_takes_connections_but_never_answers_lets_requests_through() -> None:
    # A stopped or partitioned Redis: the connection opens, no reply ever comes. Before, the
    # request waiting for its place (every request once Redis's word is stale) waited forever.
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(-1)

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    redis = Redis.from_url(f"redis://127.0.0.1:{port}/0")
    try:
        # The outer bound only turns a hang into a failure; the budget answers long before.
        answers = await asyncio.wait_for(
            asyncio.gather(*(KeyBudgets(redis).over("key:1", 10, 60, 1e6) for _ in range(3))),
            timeout=30,
        )
    finally:
        await redis.aclose()
        server.close()

    assert answers == [None, None, None]
