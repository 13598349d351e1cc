"""Values that looked valid to the parser but mean nothing are refused with the field and why.

Time zones must be real places, birthdays real dates of birth, a score a number (never
true/false), an event's time one a shop's clock can give, and one batch cannot hold two
different events under the same id. Each refusal is a 422 that writes nothing.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, func, select

from app.config import Settings
from app.models import Contact, Event
from app.services.account.demo import add_demo_contacts
from app.services.account.tracking_keys import site_keys
from app.services.contacts.fields import normalize_email


@pytest.fixture
def api(client: TestClient, api_key: str, redis: Any) -> TestClient:
    client.headers["Authorization"] = f"Bearer {api_key}"
    return client


def count(session: Session, model: Any) -> int:
    return int(session.exec(select(func.count()).select_from(model)).one())


def in_days(days: int) -> str:
    return (datetime.now(UTC).date() + timedelta(days=days)).isoformat()


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"timezone": "localtime"}, "is not a time zone"),
        ({"timezone": "posixrules"}, "is not a time zone"),
        ({"timezone": "Factory"}, "is not a time zone"),
        ({"timezone": "Mars/Olympus_Mons"}, "is not a time zone"),
        ({"attributes": {"timezone": "localtime"}}, "is not a time zone"),
        ({"birthday": in_days(3)}, "the birthday is in the future"),
        ({"birthday": "2999-01-01"}, "the birthday is in the future"),
        ({"attributes": {"birthday": in_days(3)}}, "the birthday is in the future"),
        ({"birthday": "1899-12-31"}, "before 1900"),
        ({"attributes": {"score": True}}, "the score must be a whole number"),
        ({"attributes": {"score": False}}, "the score must be a whole number"),
    ],
)
def test_a_contact_with_a_value_that_means_nothing_is_refused(
    api: TestClient, session: Session, fields: dict[str, Any], words: str
) -> None:
    response = api.post("/api/v1/contacts", json={"email": "lea@shop.example", **fields})

    assert response.status_code == 422
    assert words in response.json()["detail"]
    assert count(session, Contact) == 0
    assert count(session, Event) == 0


@pytest.mark.parametrize("score", [True, False])
def test_a_score_of_true_or_false_is_refused_not_read_as_1_or_0(
    api: TestClient, session: Session, score: bool
) -> None:
    response = api.post("/api/v1/contacts", json={"email": "lea@shop.example", "score": score})

    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", "score"]
    assert "the score must be a whole number, not true or false" in error["msg"]
    assert count(session, Contact) == 0


def test_real_zones_todays_birthdays_and_whole_scores_are_still_taken(
    api: TestClient, session: Session
) -> None:
    response = api.post(
        "/api/v1/contacts",
        json={
            "email": "lea@shop.example",
            "timezone": "America/Argentina/Buenos_Aires",
            "birthday": in_days(0),
            "score": 12,
            "attributes": {"vip": True},
        },
    )

    assert response.status_code == 201
    contact = session.exec(select(Contact)).one()
    assert contact.timezone == "America/Argentina/Buenos_Aires"
    assert contact.birthday == date.fromisoformat(in_days(0))
    assert contact.score == 12
    assert contact.attributes == {"vip": True}


@pytest.mark.parametrize(
    ("occurred_at", "words"),
    [
        ("1999-12-31T23:59:59Z", "before the year 2000"),
        ("1970-01-01T00:00:00Z", "before the year 2000"),
        ("0001-01-01T00:00:00+01:00", "before the year 2000"),
        pytest.param(
            (datetime.now(UTC) + timedelta(days=2)).isoformat(),
            "more than a day in the future",
            id="two days ahead",  # a fixed id: parallel workers must collect the same tests
        ),
    ],
)
def test_an_event_time_outside_what_a_clock_can_give_is_refused(
    api: TestClient, session: Session, occurred_at: str, words: str
) -> None:
    event = {"name": "purchase", "contact": {"email": "a@shop.example"}, "occurred_at": occurred_at}

    single = api.post("/api/v1/events", json=event)
    batch = api.post("/api/v1/events/batch", json={"events": [{**event, "name": "v"}, event]})

    assert single.status_code == 422
    assert single.json()["detail"]["errors"][0]["field"] == "occurred_at"
    assert words in single.json()["detail"]["errors"][0]["reason"]
    assert batch.status_code == 422
    assert [(e["index"], e["field"]) for e in batch.json()["detail"]["errors"]] == [
        (0, "occurred_at"),
        (1, "occurred_at"),
    ]
    assert count(session, Event) == 0
    assert count(session, Contact) == 0


def test_an_event_of_the_first_of_january_2000_is_taken(api: TestClient, session: Session) -> None:
    event = {
        "name": "purchase",
        "contact": {"email": "a@shop.example"},
        "occurred_at": "2000-01-01T00:00:00Z",
    }

    assert api.post("/api/v1/events", json=event).status_code == 202


def test_the_website_snippet_is_held_to_the_same_time_window(
    client: TestClient, session: Session, settings: Settings, api_key: str, redis: Any
) -> None:
    site_key = site_keys(session, settings)[0][1]
    body = {
        "key": site_key,
        "contact": {"email": "a@site.example"},
        "events": [{"name": "page_view", "occurred_at": "1990-05-01T10:00:00Z"}],
    }

    response = client.post(
        "/api/track", content=json.dumps(body), headers={"Content-Type": "text/plain"}
    )

    assert response.status_code == 422
    assert response.json()["detail"]["errors"][0]["field"] == "occurred_at"
    assert count(session, Event) == 0


def test_a_batch_with_one_id_for_two_different_events_is_refused_with_the_index(
    api: TestClient, session: Session
) -> None:
    first = {"id": "order-1", "name": "purchase", "contact": {"email": "a@shop.example"}}
    other = {**first, "properties": {"total": 99}}

    response = api.post(
        "/api/v1/events/batch", json={"events": [first, {**first, "id": "order-2"}, other]}
    )

    assert response.status_code == 422
    detail = response.json()["detail"]
    assert "1 event of the batch is invalid" in detail["message"]
    [error] = detail["errors"]
    assert (error["index"], error["field"]) == (2, "id")
    assert "already used by event 0 of the batch, with different content" in error["reason"]
    assert count(session, Event) == 0
    assert count(session, Contact) == 0


def test_a_batch_repeating_an_event_word_for_word_stores_it_once(
    api: TestClient, session: Session
) -> None:
    event = {
        "id": "order-1",
        "name": "purchase",
        "contact": {"email": "A@shop.example"},
        "properties": {"total": 10},
        "occurred_at": "2026-01-02T10:00:00+01:00",
    }
    same = {**event, "contact": {"email": "a@shop.example"}, "occurred_at": "2026-01-02T09:00:00Z"}

    response = api.post("/api/v1/events/batch", json={"events": [event, same]})

    assert response.status_code == 202
    assert response.json()["ids"] == ["order-1", "order-1"]
    assert session.exec(select(func.count()).where(Event.name == "purchase")).one() == 1


def test_demo_contacts_have_emails_the_api_accepts(session: Session) -> None:
    add_demo_contacts(session, contacts=120)

    emails = session.exec(select(Contact.email)).all()

    assert len(emails) == 120
    assert [normalize_email(e) for e in emails] == emails
