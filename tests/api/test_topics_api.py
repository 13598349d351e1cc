"""Topics over the API: created by key, renamed, refused for deletion while a message carries
them; messages take an optional topic and contacts a choice per topic (DESIGN §12.3)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, func, select

from app.clock import utcnow
from app.models import Contact, ContactTopic, Topic
from app.services.messaging.topic_choices import choose
from tests.api.test_contacts_api import api  # noqa: F401 - the fixture

OFFERS = {"key": "offers", "name": "Offers", "description": "Sales, twice a month"}
EMAIL: dict[str, Any] = {
    "key": "spring-sale",
    "name": "Spring sale",
    "subject": "Spring sale",
    "html": "<p>Sale!</p>",
    "topic": "offers",
}


@pytest.fixture
def offers(api: TestClient) -> dict[str, Any]:  # noqa: F811
    created = api.post("/api/v1/topics", json=OFFERS)
    assert created.status_code == 201, created.text
    return dict(created.json())


def count(session: Session, model: Any) -> int:
    return int(session.exec(select(func.count()).select_from(model)).one())


def test_a_topic_is_created_listed_read_and_renamed_by_its_key(
    api: TestClient,  # noqa: F811
    offers: dict[str, Any],
) -> None:
    api.post("/api/v1/topics", json={"name": "Newsletter"})

    listed = api.get("/api/v1/topics").json()
    renamed = api.patch("/api/v1/topics/offers", json={"name": "Special offers"})

    assert offers["key"] == "offers"
    assert (offers["messages"], offers["left"]) == (0, 0)
    assert [t["key"] for t in listed] == ["newsletter", "offers"], "derived from the name"
    assert renamed.status_code == 200
    assert renamed.json()["name"] == "Special offers"
    assert renamed.json()["description"] == "Sales, twice a month", "left out: unchanged"
    assert api.get("/api/v1/topics/offers").json()["name"] == "Special offers"
    assert api.get("/api/v1/topics/nothing").status_code == 404


def test_a_duplicate_or_malformed_topic_is_refused_and_nothing_is_written(
    api: TestClient,  # noqa: F811
    session: Session,
    offers: dict[str, Any],
) -> None:
    answers = [
        api.post("/api/v1/topics", json=OFFERS),
        api.post("/api/v1/topics", json={"key": "Bad Key!", "name": "Bad"}),
        api.post("/api/v1/topics", json={"key": "empty", "name": "  "}),
        api.post("/api/v1/topics", json={"key": "long", "name": "x" * 201}),
        api.post("/api/v1/topics", json={"key": "other", "name": "Other", "colour": "red"}),
        api.patch("/api/v1/topics/offers", json={"name": ""}),
    ]

    assert [a.status_code for a in answers] == [409, 422, 422, 422, 422, 422]
    assert "already exists" in answers[0].json()["detail"]
    assert count(session, Topic) == 1
    assert api.get("/api/v1/topics/offers").json()["name"] == "Offers"


def test_a_message_carries_a_topic_and_an_unknown_one_is_refused(
    api: TestClient,  # noqa: F811
    offers: dict[str, Any],
) -> None:
    saved = api.post("/api/v1/messages", json=EMAIL)
    unknown = api.post("/api/v1/messages", json={**EMAIL, "key": "x", "topic": "newsletter"})
    sms = api.post(
        "/api/v1/messages",
        json={"key": "sms", "channel": "sms", "text": "Hi", "topic": "offers"},
    )
    receipt = api.post(
        "/api/v1/messages", json={**EMAIL, "key": "receipt", "purpose": "transactional"}
    )
    without = api.post("/api/v1/messages", json={**EMAIL, "key": "plain", "topic": None})

    assert saved.status_code == 201, saved.text
    assert saved.json()["topic"] == "offers"
    assert unknown.status_code == 422
    assert "no topic with the key" in unknown.json()["detail"]
    assert sms.status_code == receipt.status_code == 422
    assert "topics are for marketing emails" in sms.json()["detail"]
    assert "transactional email has no topic" in receipt.json()["detail"]
    assert without.json()["topic"] is None
    assert {m["key"] for m in api.get("/api/v1/messages").json()} == {"plain", "spring-sale"}
    assert api.get("/api/v1/topics/offers").json()["messages"] == 1


def test_a_topic_a_message_carries_cannot_be_deleted_and_the_refusal_names_it(
    api: TestClient,  # noqa: F811
    offers: dict[str, Any],
) -> None:
    api.post("/api/v1/messages", json=EMAIL)

    refused = api.delete("/api/v1/topics/offers")
    api.post("/api/v1/messages", json={**EMAIL, "topic": None})
    deleted = api.delete("/api/v1/topics/offers")

    assert refused.status_code == 409
    assert "Spring sale" in refused.json()["detail"]
    assert deleted.status_code == 204
    assert api.get("/api/v1/topics").json() == []


def test_a_contact_may_leave_a_topic_through_the_api_and_reads_it_back(
    api: TestClient,  # noqa: F811
    session: Session,
    offers: dict[str, Any],
) -> None:
    api.post("/api/v1/topics", json={"key": "newsletter", "name": "Newsletter"})

    saved = api.post(
        "/api/v1/contacts", json={"email": "lea@example.com", "topics": {"offers": False}}
    )
    contact_id = saved.json()["contact"]["id"]
    again = api.post(
        "/api/v1/contacts", json={"email": "lea@example.com", "topics": {"offers": True}}
    )

    assert saved.status_code == 201, saved.text
    assert saved.json()["contact"]["topics"] == {"newsletter": True, "offers": False}
    assert again.json()["contact"]["topics"] == {"newsletter": True, "offers": True}
    assert api.get(f"/api/v1/contacts/{contact_id}").json()["topics"]["offers"] is True
    exported = api.get(f"/api/v1/contacts/{contact_id}/export").json()
    assert exported["topic_choices"] == [
        {"topic": "offers", "subscribed": True, "at": "2026-02-01T10:00:00+00:00", "source": "api"}
    ]
    assert api.get("/api/v1/topics/offers").json()["left"] == 0


def test_an_unknown_topic_or_a_choice_that_is_not_true_or_false_writes_no_contact(
    api: TestClient,  # noqa: F811
    session: Session,
    offers: dict[str, Any],
) -> None:
    answers = [
        api.post("/api/v1/contacts", json={"email": "a@example.com", "topics": {"sport": False}}),
        api.post("/api/v1/contacts", json={"email": "a@example.com", "topics": {"offers": "no"}}),
        api.post("/api/v1/contacts", json={"email": "a@example.com", "topics": {"offers": 0}}),
        api.post("/api/v1/contacts", json={"email": "a@example.com", "topics": ["offers"]}),
    ]

    assert [a.status_code for a in answers] == [422, 422, 422, 422]
    assert "sport" in answers[0].json()["detail"]
    assert count(session, Contact) == 0
    assert count(session, ContactTopic) == 0


def test_erasing_a_contact_erases_their_topic_choices(
    api: TestClient,  # noqa: F811
    session: Session,
    offers: dict[str, Any],
) -> None:
    saved = api.post(
        "/api/v1/contacts", json={"email": "b@example.com", "topics": {"offers": False}}
    )

    api.delete(f"/api/v1/contacts/{saved.json()['contact']['id']}")

    assert count(session, ContactTopic) == 0


def test_a_choice_about_a_topic_deleted_meanwhile_is_dropped_and_the_others_are_written(
    session: Session,
) -> None:
    offers = Topic(key="offers", name="Offers")
    session.add(offers)
    contact = Contact(email="race@example.com")
    session.add(contact)
    session.flush()
    assert contact.id is not None
    assert offers.id is not None
    gone = offers.id + 1000  # read a moment ago, deleted by another request since

    choose(session, contact.id, {offers.id: False, gone: False}, now=utcnow(), source="api")

    rows = session.exec(select(ContactTopic)).all()
    assert [(r.topic_id, r.subscribed) for r in rows] == [(offers.id, False)]


@pytest.mark.parametrize(
    "name",
    ["Offers\u202esrehto", "Offers\u2066x\u2069", "Offers\nNewsletter", "Offers\x1b[31m"],
    ids=["right-to-left override", "isolate", "line break", "escape code"],
)
def test_a_topic_name_that_would_read_as_something_else_is_refused(
    api: TestClient,  # noqa: F811
    session: Session,
    name: str,
) -> None:
    refused = api.post("/api/v1/topics", json={"name": name})

    assert refused.status_code == 422
    assert "invisible characters" in refused.text
    assert session.exec(select(Topic)).all() == []
