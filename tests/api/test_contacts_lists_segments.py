"""Lists and segments over the API: keys, members, counts, and errors that change nothing."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, func, select

from app.models import ContactList, Event, ListMembership, Segment


@pytest.fixture
def api(client: TestClient, api_key: str, redis: Any) -> TestClient:
    client.headers["Authorization"] = f"Bearer {api_key}"
    return client


@pytest.fixture
def people(api: TestClient) -> list[int]:
    cities = ["Lyon", "Lyon", "Paris", "Nantes"]
    return [
        api.post(
            "/api/v1/contacts",
            json={"email": f"p{n}@x.example", "attributes": {"city": city, "orders": n}},
        ).json()["contact"]["id"]
        for n, city in enumerate(cities)
    ]


def count(session: Session, model: Any, *where: Any) -> int:
    return int(session.exec(select(func.count()).select_from(model).where(*where)).one())


def test_a_list_is_created_by_key_and_counts_its_members(
    api: TestClient, session: Session, people: list[int]
) -> None:
    created = api.post("/api/v1/lists", json={"key": "vip", "name": "VIP"})
    added = api.post(
        "/api/v1/lists/vip/contacts",
        json={"contact_ids": people[:2], "emails": ["P2@x.example"]},
    )
    again = api.post("/api/v1/lists/vip/contacts", json={"contact_ids": people[:1]})

    assert created.status_code == 201
    assert added.json() == {"list": "vip", "changed": 3}
    assert again.json()["changed"] == 0
    listed = {row["key"]: row["members"] for row in api.get("/api/v1/lists").json()}
    assert listed == {"vip": 3}
    assert count(session, Event, Event.name == "list_added") == 3


def test_list_members_are_paged_and_removed_with_list_removed_events(
    api: TestClient, session: Session, people: list[int]
) -> None:
    api.post("/api/v1/lists", json={"key": "vip", "name": "VIP"})
    api.post("/api/v1/lists/vip/contacts", json={"contact_ids": people})

    page = api.get("/api/v1/lists/vip/contacts", params={"limit": 3}).json()
    rest = api.get("/api/v1/lists/vip/contacts", params={"before": page["next"]}).json()
    removed = api.request("DELETE", "/api/v1/lists/vip/contacts", json={"contact_ids": people[:2]})

    assert [c["id"] for c in page["contacts"] + rest["contacts"]] == sorted(people, reverse=True)
    assert removed.json()["changed"] == 2
    assert count(session, Event, Event.name == "list_removed") == 2
    assert count(session, ListMembership) == 2


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ({"key": "Bad Key", "name": "x"}, 422, "cannot be used as a key"),
        ({"key": "ok", "name": "  "}, 422, "name"),
        ({"key": "vip", "name": "Again"}, 409, "already exists"),
    ],
)
def test_bad_lists_are_refused(
    api: TestClient, session: Session, body: dict[str, Any], status: int, words: str
) -> None:
    api.post("/api/v1/lists", json={"key": "vip", "name": "VIP"})

    response = api.post("/api/v1/lists", json=body)

    assert response.status_code == status
    assert words in response.json()["detail"]
    assert count(session, ContactList) == 1


def test_adding_unknown_contacts_changes_nothing(
    api: TestClient, session: Session, people: list[int]
) -> None:
    api.post("/api/v1/lists", json={"key": "vip", "name": "VIP"})

    response = api.post(
        "/api/v1/lists/vip/contacts",
        json={"contact_ids": [people[0], 999999], "emails": ["ghost@x.example"]},
    )

    assert response.status_code == 422
    assert "999999" in response.json()["detail"]
    assert "ghost@x.example" in response.json()["detail"]
    assert count(session, ListMembership) == 0
    assert api.post("/api/v1/lists/nope/contacts", json={"contact_ids": people}).status_code == 404


LYON = {"attribute": "city", "op": "eq", "value": "lyon"}


def test_a_segment_counts_and_lists_the_contacts_matching_its_condition(
    api: TestClient, people: list[int]
) -> None:
    created = api.post("/api/v1/segments", json={"key": "lyon", "name": "Lyon", "condition": LYON})
    read = api.get("/api/v1/segments/lyon")
    members = api.get("/api/v1/segments/lyon/contacts").json()

    assert created.status_code == 201
    assert created.json()["summary"] == "city = 'lyon'"
    assert read.json()["members"] == 2
    assert members["contact_ids"] == [people[1], people[0]]


def test_a_condition_can_be_counted_before_saving(api: TestClient, people: list[int]) -> None:
    condition = {"any": [LYON, {"attribute": "orders", "op": "gte", "value": 3}]}

    response = api.post("/api/v1/segments/count", json={"condition": condition})

    assert response.json() == {"members": 3}


def test_a_segment_is_updated_and_deleted(
    api: TestClient, session: Session, people: list[int]
) -> None:
    api.post("/api/v1/segments", json={"key": "lyon", "name": "Lyon", "condition": LYON})

    updated = api.put(
        "/api/v1/segments/lyon",
        json={
            "name": "Paris now",
            "condition": {"attribute": "city", "op": "eq", "value": "Paris"},
        },
    )
    assert updated.status_code == 200
    assert api.get("/api/v1/segments/lyon").json()["members"] == 1
    assert api.delete("/api/v1/segments/lyon").status_code == 204
    assert api.get("/api/v1/segments/lyon").status_code == 404
    assert count(session, Segment) == 0


@pytest.mark.parametrize(
    ("condition", "words"),
    [
        ({"attribute": "city", "op": "eq"}, "needs a value"),
        ({"attribute": "city", "op": "resembles", "value": "x"}, "operator"),
        ({"colour": "red"}, "a condition must be an object"),
        ({"list": "no-such-list", "op": "member"}, "does not exist"),
        ({"all": [LYON, {"event": "purchase", "op": "count_gte"}]}, "rule 2"),
    ],
)
def test_an_invalid_condition_is_refused_in_plain_words(
    api: TestClient, session: Session, condition: dict[str, Any], words: str
) -> None:
    response = api.post(
        "/api/v1/segments", json={"key": "bad", "name": "Bad", "condition": condition}
    )

    assert response.status_code == 422
    assert words in response.json()["detail"]
    assert count(session, Segment) == 0


def test_contacts_in_the_lists_and_segments_api_need_a_key(client: TestClient) -> None:
    assert client.get("/api/v1/lists").status_code == 401
    assert client.get("/api/v1/segments").status_code == 401
    assert client.post("/api/v1/contacts", json={"email": "a@b.example"}).status_code == 401
