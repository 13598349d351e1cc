"""Tracking events: 202 once stored, de-duplicated by id, all-or-nothing batches, clear 4xx."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, func, select

from app.clock import FrozenClock
from app.models import Contact, Event


@pytest.fixture
def api(client: TestClient, api_key: str, redis: Any) -> TestClient:
    """A client with a key, on an empty Redis (rate-limit windows start from zero)."""
    client.headers["Authorization"] = f"Bearer {api_key}"
    return client


def count(session: Session, model: Any) -> int:
    return int(session.exec(select(func.count()).select_from(model)).one())


def purchase(n: int = 0, **extra: Any) -> dict[str, Any]:
    return {
        "id": f"order-{n}",
        "name": "purchase",
        "contact": {"email": f"Buyer{n}@Shop.example "},
        "properties": {"total": 42.5, "items": [{"sku": "A1"}]},
        **extra,
    }


def test_an_event_is_stored_then_acknowledged_with_202(api: TestClient, session: Session) -> None:
    response = api.post("/api/v1/events", json=purchase(1, occurred_at="2026-01-02T10:00:00+01:00"))

    assert response.status_code == 202
    assert response.json() == {"status": "accepted", "id": "order-1"}
    event = session.exec(select(Event).where(Event.uid == "order-1")).one()
    assert event.name == "purchase"
    assert event.properties == {"total": 42.5, "items": [{"sku": "A1"}]}
    assert event.occurred_at == datetime(2026, 1, 2, 9, 0, tzinfo=UTC)
    assert event.processed_at is None


def test_an_unknown_email_creates_the_contact_with_a_contact_created_event(
    api: TestClient, session: Session
) -> None:
    api.post("/api/v1/events", json=purchase(7))

    contact = session.exec(select(Contact).where(Contact.email == "buyer7@shop.example")).one()
    names = session.exec(select(Event.name).where(Event.contact_id == contact.id)).all()
    assert sorted(names) == ["contact_created", "purchase"]
    assert contact.email_consent is False


def test_without_an_id_each_post_is_a_new_event_with_a_generated_id(
    api: TestClient, session: Session
) -> None:
    body = {"name": "page_view", "contact": {"email": "a@b.example"}}
    first = api.post("/api/v1/events", json=body).json()["id"]
    second = api.post("/api/v1/events", json=body).json()["id"]

    assert first != second
    assert count(session, Event) == 3  # two page views and contact_created


def test_the_same_id_ten_times_is_stored_once_and_answered_the_same_way(
    api: TestClient, session: Session
) -> None:
    answers = [api.post("/api/v1/events", json=purchase(3)) for _ in range(10)]

    assert {(a.status_code, a.text) for a in answers} == {(202, answers[0].text)}
    assert session.exec(select(func.count()).where(Event.uid == "order-3")).one() == 1
    assert count(session, Contact) == 1


def test_a_time_without_offset_is_utc_and_no_time_means_now(
    api: TestClient, app: Any, session: Session
) -> None:
    clock = FrozenClock(datetime(2026, 3, 1, 12, 0, tzinfo=UTC))
    app.state.clock = clock
    api.post("/api/v1/events", json=purchase(1, occurred_at="2026-02-28T08:30:00"))
    api.post("/api/v1/events", json=purchase(2))

    times = dict(session.exec(select(Event.uid, Event.occurred_at)).all())
    assert times["order-1"] == datetime(2026, 2, 28, 8, 30, tzinfo=UTC)
    assert times["order-2"] == clock.now()


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"contact": {"email": "a@b.example"}}, "name", "required"),
        ({"name": " ", "contact": {"email": "a@b.example"}}, "name", "needs a name"),
        ({"name": "x" * 101, "contact": {"email": "a@b.example"}}, "name", "longer than 100"),
        ({"name": "buy", "contact": {"email": "not-an-email"}}, "contact.email", "not a valid"),
        ({"name": "buy"}, "contact", "say who did it"),
        ({"name": "buy", "contact": {}}, "contact", "say who did it"),
        ({"name": "buy", "contact_id": 999999}, "contact_id", "no contact with id 999999"),
        ({"name": "buy", "contact": {"email": "a@b.example"}, "colour": 1}, "colour", "not part"),
        (
            {"name": "buy", "contact": {"email": "a@b.example"}, "properties": []},
            "properties",
            "object",
        ),
        (
            {"name": "buy", "contact": {"email": "a@b.example"}, "occurred_at": "yesterday"},
            "occurred_at",
            "must be a time",
        ),
        (
            {"name": "buy", "contact": {"email": "a@b.example"}, "occurred_at": "2999-01-01"},
            "occurred_at",
            "in the future",
        ),
    ],
)
def test_an_invalid_event_gets_422_naming_the_field_and_nothing_is_written(
    api: TestClient, session: Session, body: dict[str, Any], field: str, words: str
) -> None:
    response = api.post("/api/v1/events", json=body)

    assert response.status_code == 422
    detail = response.json()["detail"]
    assert "nothing was stored" in detail["message"]
    assert [e["field"] for e in detail["errors"]] == [field]
    assert words in detail["errors"][0]["reason"]
    assert count(session, Event) == 0
    assert count(session, Contact) == 0


@pytest.mark.parametrize(
    "name", ["contact_created", "attribute_changed", "score_changed", "list_added", "list_removed"]
)
def test_reserved_event_names_are_refused_in_plain_words(
    api: TestClient, session: Session, name: str
) -> None:
    response = api.post("/api/v1/events", json={"name": name, "contact": {"email": "a@b.ex"}})

    assert response.status_code == 422
    assert "recorded by Parcours itself" in response.json()["detail"]["errors"][0]["reason"]
    assert count(session, Event) == 0


def test_bad_json_gets_422(api: TestClient, session: Session) -> None:
    response = api.post(
        "/api/v1/events", content=b'{"name": "buy", ', headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 422
    assert "not valid JSON" in response.json()["detail"]["errors"][0]["reason"]
    assert count(session, Event) == 0


def test_a_body_over_the_limit_gets_413(api: TestClient, app: Any, session: Session) -> None:
    app.state.settings.events_max_body_bytes = 2_000
    body = purchase(1, properties={"note": "x" * 3_000})

    response = api.post("/api/v1/events", json=body)

    assert response.status_code == 413
    assert "larger than 2,000 bytes" in response.json()["detail"]
    assert count(session, Event) == 0


def test_a_streamed_body_over_the_limit_gets_413_without_content_length(
    api: TestClient, app: Any
) -> None:
    app.state.settings.events_max_body_bytes = 1_000

    def chunks():  # type: ignore[no-untyped-def]
        yield b'{"name": "buy", "properties": {"x": "'
        yield b"y" * 2_000
        yield b'"}}'

    response = api.post("/api/v1/events", content=chunks())

    assert response.status_code == 413


@pytest.mark.parametrize("authorization", [None, "Bearer wrong-key", "Basic abc"])
def test_a_missing_or_wrong_key_gets_401_and_nothing_is_written(
    client: TestClient, session: Session, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization else {}

    response = client.post("/api/v1/events", json=purchase(1), headers=headers)

    assert response.status_code == 401
    assert count(session, Event) == 0


def test_past_the_rate_limit_the_key_gets_429_with_retry_after(
    api: TestClient, app: Any, session: Session
) -> None:
    app.state.clock = FrozenClock(datetime(2026, 3, 1, 12, 0, 4, tzinfo=UTC))
    app.state.settings.api_rate_limit = 3
    app.state.settings.api_rate_limit_window_seconds = 10

    answers = [api.post("/api/v1/events", json=purchase(n)).status_code for n in range(5)]

    assert answers == [202, 202, 202, 429, 429]
    refused = api.post("/api/v1/events", json=purchase(9))
    assert refused.headers["Retry-After"] == "6"  # the window ends at 12:00:10
    assert "Too many requests" in refused.json()["detail"]
    assert count(session, Event) - count(session, Contact) == 3  # minus contact_created

    app.state.clock.advance(seconds=6)
    assert api.post("/api/v1/events", json=purchase(9)).status_code == 202


def test_the_rate_limit_is_counted_per_key(api: TestClient, app: Any, session: Session) -> None:
    from app.services.account.api_keys import create_api_key

    _, other = create_api_key(session, name="Other site")
    session.commit()
    app.state.clock = FrozenClock()
    app.state.settings.api_rate_limit = 1

    assert api.post("/api/v1/events", json=purchase(1)).status_code == 202
    assert api.post("/api/v1/events", json=purchase(2)).status_code == 429
    elsewhere = api.post(
        "/api/v1/events", json=purchase(3), headers={"Authorization": f"Bearer {other}"}
    )
    assert elsewhere.status_code == 202


def test_the_openapi_document_shows_the_event_body(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    body = spec["paths"]["/api/v1/events"]["post"]["requestBody"]["content"]["application/json"]

    assert "name" in body["schema"]["properties"]
    assert json.dumps(body).count("$defs") == 0
