"""Event batches: all or nothing, with the index and reason of every bad item; limits."""

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


def count(session: Session, model: Any) -> int:
    return int(session.exec(select(func.count()).select_from(model)).one())


def view(n: int, email: str | None = None) -> dict[str, Any]:
    return {
        "id": f"view-{n}",
        "name": "page_view",
        "contact": {"email": email or f"visitor{n % 7}@site.example"},
        "properties": {"path": f"/products/{n}"},
    }


def test_a_batch_is_stored_whole_and_creates_each_unknown_contact_once(
    api: TestClient, session: Session
) -> None:
    events = [view(n) for n in range(50)]

    response = api.post("/api/v1/events/batch", json={"events": events})

    assert response.status_code == 202
    assert response.json()["accepted"] == 50
    assert response.json()["ids"] == [f"view-{n}" for n in range(50)]
    assert count(session, Contact) == 7
    created = session.exec(select(func.count()).where(Event.name == "contact_created")).one()
    assert created == 7
    assert session.exec(select(func.count()).where(Event.name == "page_view")).one() == 50


def test_a_batch_mixes_known_contacts_ids_and_external_ids(
    api: TestClient, session: Session
) -> None:
    known = Contact(email="known@site.example")
    session.add(known)
    session.commit()
    events = [
        {"name": "login", "contact_id": known.id},
        {"name": "login", "contact": {"email": "KNOWN@site.example"}},
        {"name": "login", "contact": {"external_id": "crm-42"}},
        {"name": "login", "contact": {"email": "new@site.example", "external_id": "crm-43"}},
    ]

    assert api.post("/api/v1/events/batch", json={"events": events}).status_code == 202

    logins = session.exec(select(Event.contact_id).where(Event.name == "login")).all()
    by_external = session.exec(select(Contact).where(Contact.external_id == "crm-42")).one()
    both = session.exec(select(Contact).where(Contact.email == "new@site.example")).one()
    assert logins.count(known.id) == 2
    assert by_external.email is None
    assert both.external_id == "crm-43"


def test_duplicate_ids_in_a_batch_and_across_batches_are_stored_once(
    api: TestClient, session: Session
) -> None:
    events = [view(1), view(1), view(2)]

    first = api.post("/api/v1/events/batch", json={"events": events})
    again = api.post("/api/v1/events/batch", json={"events": events})

    assert first.status_code == again.status_code == 202
    assert first.json() == again.json()
    assert session.exec(select(func.count()).where(Event.name == "page_view")).one() == 2


def test_one_bad_item_refuses_the_whole_batch_naming_each_bad_index(
    api: TestClient, session: Session
) -> None:
    events = [view(n) for n in range(10)]
    events[3]["contact"]["email"] = "nope"
    events[7]["name"] = "list_added"
    del events[8]["contact"]

    response = api.post("/api/v1/events/batch", json={"events": events})

    assert response.status_code == 422
    detail = response.json()["detail"]
    assert "nothing was stored" in detail["message"]
    assert [(e["index"], e["field"]) for e in detail["errors"]] == [
        (3, "contact.email"),
        (7, "name"),
        (8, "contact"),
    ]
    assert all(e["reason"] for e in detail["errors"])
    assert count(session, Event) == 0
    assert count(session, Contact) == 0


def test_an_unknown_contact_id_refuses_the_batch_before_any_contact_is_created(
    api: TestClient, session: Session
) -> None:
    events = [view(1), {"name": "login", "contact_id": 123456}]

    response = api.post("/api/v1/events/batch", json={"events": events})

    assert response.status_code == 422
    assert response.json()["detail"]["errors"] == [
        {"index": 1, "field": "contact_id", "reason": "there is no contact with id 123456"}
    ]
    assert count(session, Contact) == 0


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"events": []}, "empty"),
        ({}, "required"),
        ({"events": {"name": "x"}}, "must be a list"),
        ([view(1)], "must be an object"),
    ],
)
def test_a_malformed_batch_gets_422(
    api: TestClient, session: Session, body: Any, words: str
) -> None:
    response = api.post("/api/v1/events/batch", json=body)

    assert response.status_code == 422
    text = str(response.json()["detail"])
    assert words in text
    assert count(session, Event) == 0


def test_bad_json_in_a_batch_gets_422(api: TestClient) -> None:
    response = api.post("/api/v1/events/batch", content=b'{"events": [}')

    assert response.status_code == 422
    assert "not valid JSON" in response.json()["detail"]["errors"][0]["reason"]


def test_more_than_1000_events_get_413(api: TestClient, session: Session) -> None:
    events = [{"name": "v", "contact_id": 1} for _ in range(1001)]

    response = api.post("/api/v1/events/batch", json={"events": events})

    assert response.status_code == 413
    assert "at most 1,000 events" in response.json()["detail"]["message"]
    assert count(session, Event) == 0


def test_a_batch_over_one_megabyte_gets_413(api: TestClient, session: Session) -> None:
    events = [view(n) | {"properties": {"blob": "x" * 2_000}} for n in range(600)]

    response = api.post("/api/v1/events/batch", json={"events": events})

    assert response.status_code == 413
    assert count(session, Event) == 0


def test_a_full_batch_of_1000_is_accepted(api: TestClient, session: Session) -> None:
    events = [view(n, email=f"p{n}@site.example") for n in range(1000)]

    response = api.post("/api/v1/events/batch", json={"events": events})

    assert response.status_code == 202
    assert count(session, Contact) == 1000
    assert count(session, Event) == 2000
