"""Contacts over the API: upsert by email or external id, validation, and recorded changes."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, func, select

from app.clock import FrozenClock
from app.models import Contact, ContactList, Event


@pytest.fixture
def api(client: TestClient, api_key: str, app: Any, redis: Any) -> TestClient:
    app.state.clock = FrozenClock(datetime(2026, 2, 1, 10, 0, tzinfo=UTC))
    client.headers["Authorization"] = f"Bearer {api_key}"
    return client


@pytest.fixture
def newsletter(session: Session) -> ContactList:
    found = ContactList(key="newsletter", name="Newsletter")
    session.add(found)
    session.commit()
    return found


def events_of(session: Session, contact_id: int) -> list[tuple[str, dict[str, Any]]]:
    rows = session.exec(
        select(Event.name, Event.properties)
        .where(Event.contact_id == contact_id)
        .order_by(Event.id)
    ).all()
    return [(name, props) for name, props in rows]


def count(session: Session, model: Any) -> int:
    return int(session.exec(select(func.count()).select_from(model)).one())


def test_a_new_email_creates_a_contact_with_fields_attributes_lists_and_consent(
    api: TestClient, session: Session, newsletter: ContactList
) -> None:
    response = api.post(
        "/api/v1/contacts",
        json={
            "email": "  Lea.Martin@Example.COM ",
            "first_name": "Léa",
            "phone": "+33 6 12 34 56 78",
            "birthday": "1990-04-25",
            "timezone": "Europe/Paris",
            "attributes": {"orders_count": 2, "vip": True, "city": "Lyon"},
            "lists": ["newsletter"],
            "consent": {"email": {"granted": True, "source": "signup form"}, "sms": False},
        },
    )

    assert response.status_code == 201
    body = response.json()
    assert body["created"] is True
    contact = body["contact"]
    assert contact["email"] == "lea.martin@example.com"
    assert contact["phone"] == "+33612345678"
    assert contact["birthday"] == "1990-04-25"
    assert contact["attributes"] == {"orders_count": 2, "vip": True, "city": "Lyon"}
    assert contact["lists"] == ["newsletter"]
    assert contact["consent"]["email"] == {
        "granted": True,
        "source": "signup form",
        "at": "2026-02-01T10:00:00+00:00",
    }
    assert contact["consent"]["sms"]["granted"] is False
    names = [name for name, _ in events_of(session, contact["id"])]
    assert names == ["contact_created", "list_added"]


def test_an_update_records_one_attribute_changed_per_change_and_score_changed(
    api: TestClient, session: Session
) -> None:
    first = api.post(
        "/api/v1/contacts",
        json={"email": "a@shop.example", "first_name": "Ann", "attributes": {"city": "Lyon"}},
    ).json()["contact"]

    response = api.post(
        "/api/v1/contacts",
        json={
            "email": "A@shop.example",
            "first_name": "Anne",
            "score": 15,
            "attributes": {"city": "Paris", "plan": "pro", "nothing": None},
        },
    )

    assert response.status_code == 200
    assert response.json()["created"] is False
    assert sorted(response.json()["changed"]) == ["city", "first_name", "plan", "score"]
    assert events_of(session, first["id"])[1:] == [
        ("attribute_changed", {"attribute": "first_name", "from": "Ann", "to": "Anne"}),
        ("score_changed", {"from": 0, "to": 15}),
        ("attribute_changed", {"attribute": "city", "from": "Lyon", "to": "Paris"}),
        ("attribute_changed", {"attribute": "plan", "from": None, "to": "pro"}),
    ]


def test_sending_the_same_values_again_records_nothing(api: TestClient, session: Session) -> None:
    body = {"email": "same@shop.example", "birthday": "1980-01-02", "attributes": {"n": 1}}
    contact = api.post("/api/v1/contacts", json=body).json()["contact"]

    again = api.post("/api/v1/contacts", json=body)

    assert again.json()["changed"] == []
    assert [n for n, _ in events_of(session, contact["id"])] == ["contact_created"]


def test_a_type_change_of_an_attribute_counts_as_a_change(
    api: TestClient, session: Session
) -> None:
    api.post("/api/v1/contacts", json={"email": "t@shop.example", "attributes": {"zip": 75001}})

    again = api.post(
        "/api/v1/contacts", json={"email": "t@shop.example", "attributes": {"zip": "75001"}}
    )

    assert again.json()["changed"] == ["zip"]
    assert again.json()["contact"]["attributes"] == {"zip": "75001"}


def test_null_removes_a_custom_attribute(api: TestClient) -> None:
    api.post("/api/v1/contacts", json={"email": "r@shop.example", "attributes": {"x": 1, "y": 2}})

    response = api.post(
        "/api/v1/contacts", json={"email": "r@shop.example", "attributes": {"x": None}}
    )

    assert response.json()["contact"]["attributes"] == {"y": 2}


def test_upsert_by_external_id_then_adding_an_email(api: TestClient, session: Session) -> None:
    first = api.post("/api/v1/contacts", json={"external_id": "crm-1", "first_name": "Bo"})
    second = api.post("/api/v1/contacts", json={"external_id": "crm-1", "email": "bo@x.example"})

    assert first.status_code == 201
    assert second.status_code == 200
    assert second.json()["contact"]["email"] == "bo@x.example"
    assert count(session, Contact) == 1


def test_email_and_external_id_of_two_different_contacts_conflict(
    api: TestClient, session: Session
) -> None:
    api.post("/api/v1/contacts", json={"email": "one@x.example"})
    api.post("/api/v1/contacts", json={"external_id": "crm-2"})

    response = api.post("/api/v1/contacts", json={"email": "one@x.example", "external_id": "crm-2"})

    assert response.status_code == 409
    assert "cannot be merged" in response.json()["detail"]


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"email": "not an email"}, "not a valid email address"),
        ({"email": "a@b"}, "not a valid email address"),
        ({"email": "a@b.example", "phone": "0612345678"}, "international format"),
        ({"email": "a@b.example", "phone": "+33 6 12"}, "E.164"),
        ({"email": "a@b.example", "birthday": "25/04/1990"}, "YYYY-MM-DD"),
        ({"email": "a@b.example", "timezone": "Paris"}, "Europe/Paris"),
        ({"email": "a@b.example", "attributes": {"first name": "x"}}, "letters, digits"),
        ({"email": "a@b.example", "attributes": {"tags": ["a", "b"]}}, "text, a number"),
        ({"email": "a@b.example", "attributes": {"created_at": "2020-01-01"}}, "set by Parcours"),
        ({"email": "a@b.example", "attributes": {"score": "lots"}}, "whole number"),
        ({"email": "a@b.example", "consent": {"post": True}}, "email or sms"),
        ({"email": "a@b.example", "consent": {"email": "yes"}}, "true, false"),
        ({"first_name": "Nobody"}, "email or an external_id"),
        ({"email": "a@b.example", "lists": ["no-such-list"]}, "No list with the key"),
    ],
)
def test_invalid_contacts_get_422_in_plain_words_and_nothing_is_written(
    api: TestClient, session: Session, body: dict[str, Any], words: str
) -> None:
    response = api.post("/api/v1/contacts", json=body)

    assert response.status_code == 422, response.text
    assert words in response.json()["detail"]
    assert count(session, Contact) == 0
    assert count(session, Event) == 0


def test_every_problem_is_named_at_once(api: TestClient) -> None:
    response = api.post(
        "/api/v1/contacts",
        json={"email": "bad", "phone": "12", "attributes": {"a b": 1}},
    )

    detail = response.json()["detail"]
    assert "email address" in detail
    assert "E.164" in detail
    assert "'a b'" in detail


def test_an_unknown_field_is_refused(api: TestClient) -> None:
    response = api.post("/api/v1/contacts", json={"email": "a@b.example", "colour": "red"})

    assert response.status_code == 422


def test_read_a_contact_by_id_and_by_email(api: TestClient) -> None:
    created = api.post("/api/v1/contacts", json={"email": "find@me.example"}).json()["contact"]

    by_id = api.get(f"/api/v1/contacts/{created['id']}")
    by_email = api.get("/api/v1/contacts", params={"email": " FIND@me.example"})

    assert by_id.status_code == 200
    assert by_id.json()["email"] == "find@me.example"
    assert by_id.json()["enrollments"] == []
    assert [c["id"] for c in by_email.json()["contacts"]] == [created["id"]]
    assert (
        api.get("/api/v1/contacts", params={"email": "x@nobody.example"}).json()["contacts"] == []
    )
    assert api.get("/api/v1/contacts/999999").status_code == 404


def test_contacts_are_paged_newest_first_with_a_cursor(api: TestClient) -> None:
    ids = [
        api.post("/api/v1/contacts", json={"email": f"p{n}@x.example"}).json()["contact"]["id"]
        for n in range(5)
    ]

    first = api.get("/api/v1/contacts", params={"limit": 2}).json()
    second = api.get("/api/v1/contacts", params={"limit": 2, "before": first["next"]}).json()

    assert [c["id"] for c in first["contacts"]] == ids[::-1][:2]
    assert [c["id"] for c in second["contacts"]] == ids[::-1][2:4]


def test_removing_from_lists_records_list_removed(
    api: TestClient, session: Session, newsletter: ContactList
) -> None:
    contact = api.post(
        "/api/v1/contacts", json={"email": "l@x.example", "lists": ["newsletter"]}
    ).json()["contact"]

    response = api.post(
        "/api/v1/contacts", json={"email": "l@x.example", "remove_from_lists": ["newsletter"]}
    )

    assert response.json()["contact"]["lists"] == []
    assert events_of(session, contact["id"])[-1] == ("list_removed", {"list": "newsletter"})


def test_birthday_changes_are_recorded_as_iso_dates(api: TestClient, session: Session) -> None:
    contact = api.post(
        "/api/v1/contacts", json={"email": "b@x.example", "birthday": "1990-01-01"}
    ).json()["contact"]
    api.post("/api/v1/contacts", json={"email": "b@x.example", "birthday": "1991-02-03"})

    stored = session.get(Contact, contact["id"])
    assert stored is not None
    session.refresh(stored)
    assert stored.birthday == date(1991, 2, 3)
    assert events_of(session, contact["id"])[-1] == (
        "attribute_changed",
        {"attribute": "birthday", "from": "1990-01-01", "to": "1991-02-03"},
    )


def test_a_contact_without_journeys_has_an_empty_list(api: TestClient) -> None:
    contact = api.post("/api/v1/contacts", json={"email": "j@x.example"}).json()["contact"]

    assert api.get(f"/api/v1/contacts/{contact['id']}/journeys").json() == {"journeys": []}
    assert api.get("/api/v1/contacts/999999/journeys").status_code == 404


def test_journeys_show_each_enrollment_with_its_steps(api: TestClient, session: Session) -> None:
    from app.models import Enrollment, Scenario, ScenarioVersion, StepLog

    contact = api.post("/api/v1/contacts", json={"email": "walker@x.example"}).json()["contact"]
    scenario = Scenario(name="Welcome")
    session.add(scenario)
    session.flush()
    version = ScenarioVersion(scenario_id=scenario.id, number=1)  # type: ignore[arg-type]
    session.add(version)
    session.flush()
    enrollment = Enrollment(
        scenario_id=scenario.id,  # type: ignore[arg-type]
        version_id=version.id,  # type: ignore[arg-type]
        contact_id=contact["id"],
        node_id="wait",
    )
    session.add(enrollment)
    session.flush()
    for seq, (node, outcome) in enumerate([("start", "completed"), ("vip", "yes")], start=1):
        session.add(
            StepLog(
                enrollment_id=enrollment.id,  # type: ignore[arg-type]
                scenario_id=scenario.id,  # type: ignore[arg-type]
                version_id=version.id,  # type: ignore[arg-type]
                contact_id=contact["id"],
                node_id=node,
                seq=seq,
                outcome=outcome,
            )
        )
    session.commit()

    journeys = api.get(f"/api/v1/contacts/{contact['id']}/journeys").json()["journeys"]
    read = api.get(f"/api/v1/contacts/{contact['id']}").json()

    assert [(j["scenario"], j["node"]) for j in journeys] == [("Welcome", "wait")]
    assert [(s["node"], s["outcome"]) for s in journeys[0]["steps"]] == [
        ("start", "completed"),
        ("vip", "yes"),
    ]
    assert [e["scenario"] for e in read["enrollments"]] == ["Welcome"]
