"""The Segment-compatible intake: what each call stores, and what it refuses (DESIGN §12.1)."""

from __future__ import annotations

import base64
import gzip
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event as sqlalchemy_event
from sqlmodel import Session, func, select

from app.models import AnonymousEvent, AnonymousLink, Contact, Event
from app.services.capture.retention import ANONYMOUS_KEPT, forget_old_anonymous_events


@pytest.fixture
def segment(client: TestClient, api_key: str, redis: Any) -> TestClient:
    client.headers["Authorization"] = "Basic " + base64.b64encode(f"{api_key}:".encode()).decode()
    return client


def post(client: TestClient, path: str, body: Any, *, zipped: bool = False) -> Any:
    data = json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    if zipped:
        data, headers["Content-Encoding"] = gzip.compress(data), "gzip"
    return client.post(path, content=data, headers=headers)


def events(session: Session, name: str) -> list[Event]:
    return list(session.exec(select(Event).where(Event.name == name).order_by(Event.id)))


def contact(session: Session, **where: str) -> Contact:
    ((key, value),) = where.items()
    return session.exec(select(Contact).where(getattr(Contact, key) == value)).one()


def count(session: Session, model: Any) -> int:
    return int(session.exec(select(func.count()).select_from(model)).one())


def test_identify_creates_the_contact_with_its_traits_mapped_to_fields_and_attributes(
    segment: TestClient, session: Session
) -> None:
    traits = {
        "email": "Lea@Shop.example",
        "firstName": "Léa",
        "last_name": "Martin",
        "phone": "+33 6 12 34 56 78",
        "birthday": "1990-04-25T00:00:00.000Z",
        "plan": "premium",
        "address": {"city": "Lyon", "country": "FR"},
        "tags": ["vip", "b2b"],
        "Favourite colour": "green",
        "createdAt": "2024-02-01T10:00:00Z",
    }
    body = {"userId": "u-1", "traits": traits, "context": {"locale": "fr-FR"}}

    response = post(segment, "/segment/v1/identify", body)

    assert response.status_code == 200, response.text
    assert response.json() == {"success": True}
    lea = contact(session, external_id="u-1")
    assert (lea.email, lea.first_name, lea.last_name) == ("lea@shop.example", "Léa", "Martin")
    assert (lea.phone, str(lea.birthday), lea.language) == ("+33612345678", "1990-04-25", "fr")
    assert lea.attributes == {
        "plan": "premium",
        "address.city": "Lyon",
        "address.country": "FR",
        "tags": '["vip","b2b"]',
        "Favourite_colour": "green",
        "account_created_at": "2024-02-01T10:00:00Z",
    }
    assert lea.email_consent is False, "traits never grant consent by themselves"
    assert [e.contact_id for e in events(session, "contact_created")] == [lea.id]


def test_identify_of_a_known_contact_records_each_change_and_keeps_its_language(
    segment: TestClient, session: Session
) -> None:
    known = Contact(email="paul@shop.example", language="en", attributes={"plan": "free"})
    session.add(known)
    session.commit()
    body = {"userId": "u-2", "traits": {"email": "paul@shop.example", "plan": "pro"}}

    response = post(segment, "/segment/v1/identify", {**body, "context": {"locale": "fr"}})

    assert response.status_code == 200, response.text
    session.refresh(known)
    assert (known.external_id, known.attributes, known.language) == ("u-2", {"plan": "pro"}, "en")
    changes = [e.properties for e in events(session, "attribute_changed")]
    assert changes == [{"attribute": "plan", "from": "free", "to": "pro"}]


def test_consent_changes_only_on_the_explicit_traits(segment: TestClient, session: Session) -> None:
    grant = {"type": "identify", "userId": "u-3", "traits": {"email_consent": True}}
    post(segment, "/segment/v1/batch", {"batch": [grant]})
    assert contact(session, external_id="u-3").email_consent is True

    leave = {"type": "identify", "userId": "u-3", "traits": {"unsubscribed": True}}
    post(segment, "/segment/v1/batch", {"batch": [leave]})

    after = contact(session, external_id="u-3")
    assert (after.email_consent, after.email_consent_source) == (False, "segment")
    # a new contact records contact_created only; the withdrawal is a change
    assert [e.properties["to"] for e in events(session, "consent_changed")] == [False]


def test_track_page_and_screen_store_events_with_their_context(
    segment: TestClient, session: Session
) -> None:
    context = {"page": {"path": "/cart", "title": "Cart"}, "ip": "203.0.113.9"}
    batch = [
        {
            "type": "track",
            "messageId": "m-1",
            "userId": "u-4",
            "event": "Order Completed",
            "properties": {"total": 42.5},
            "timestamp": "2025-03-01T09:30:00+01:00",
            "context": context,
        },
        {"type": "page", "messageId": "m-2", "userId": "u-4", "name": "Cart", "properties": {}},
        {"type": "screen", "messageId": "m-3", "userId": "u-4", "name": "Home"},
    ]

    response = post(segment, "/segment/v1/batch", {"batch": batch})

    assert response.status_code == 200, response.text
    (order,) = events(session, "Order Completed")
    assert order.uid == "m-1"
    assert order.properties == {"total": 42.5, "context": context}
    assert order.occurred_at.isoformat().startswith("2025-03-01T08:30:00")
    assert events(session, "page_view")[0].properties == {"name": "Cart"}
    assert events(session, "screen_view")[0].properties == {"name": "Home"}
    assert {e.contact_id for e in events(session, "page_view")} == {
        contact(session, external_id="u-4").id
    }


def test_a_retried_batch_stores_nothing_twice(segment: TestClient, session: Session) -> None:
    batch = [
        {"type": "track", "messageId": f"r-{n}", "userId": f"u-{n % 3}", "event": "Viewed"}
        for n in range(10)
    ]

    for _ in range(3):
        assert post(segment, "/segment/v1/batch", {"batch": batch}, zipped=True).status_code == 200

    assert len(events(session, "Viewed")) == 10
    assert count(session, Contact) == 3


def test_events_of_an_anonymous_visitor_wait_and_join_the_contact_on_identify(
    segment: TestClient, session: Session
) -> None:
    browsing = [
        {"type": "page", "messageId": "a-1", "anonymousId": "anon-9", "name": "Home"},
        {"type": "track", "messageId": "a-2", "anonymousId": "anon-9", "event": "Added To Cart"},
    ]
    post(segment, "/segment/v1/batch", {"batch": browsing})
    assert count(session, Event) == 0
    assert count(session, AnonymousEvent) == 2

    signup = {"anonymousId": "anon-9", "traits": {"email": "zoe@shop.example"}}
    assert post(segment, "/segment/v1/identify", signup).status_code == 200

    zoe = contact(session, email="zoe@shop.example")
    assert [e.uid for e in events(session, "Added To Cart")] == ["a-2"]
    assert {e.contact_id for e in events(session, "page_view")} == {zoe.id}
    assert count(session, AnonymousEvent) == 0
    later = {"messageId": "a-3", "anonymousId": "anon-9", "event": "Checkout"}
    post(segment, "/segment/v1/track", later)
    assert [e.contact_id for e in events(session, "Checkout")] == [zoe.id]


def test_alias_links_the_previous_id_to_the_user(segment: TestClient, session: Session) -> None:
    post(segment, "/v1/track", {"messageId": "b-1", "anonymousId": "anon-7", "event": "Viewed"})

    response = post(segment, "/v1/alias", {"previousId": "anon-7", "userId": "u-7"})

    assert response.status_code == 200, response.text
    user = contact(session, external_id="u-7")
    assert [e.contact_id for e in events(session, "Viewed")] == [user.id]
    assert session.get(AnonymousLink, "anon-7").contact_id == user.id  # type: ignore[union-attr]


def test_a_message_naming_both_ids_links_them_at_once(
    segment: TestClient, session: Session
) -> None:
    waiting = {"type": "track", "messageId": "c-1", "anonymousId": "anon-5", "event": "Viewed"}
    both = {"type": "track", "messageId": "c-2", "anonymousId": "anon-5", "userId": "u-5"}
    post(segment, "/segment/v1/batch", {"batch": [waiting]})

    post(segment, "/segment/v1/batch", {"batch": [{**both, "event": "Bought"}]})

    user = contact(session, external_id="u-5")
    assert {e.contact_id for e in events(session, "Viewed") + events(session, "Bought")} == {
        user.id
    }


def test_group_stores_an_event_and_the_group_as_attributes(
    segment: TestClient, session: Session
) -> None:
    body = {"userId": "u-6", "groupId": "acme", "traits": {"name": "Acme", "plan": "team"}}

    assert post(segment, "/segment/v1/group", body).status_code == 200

    user = contact(session, external_id="u-6")
    assert user.attributes == {"group.id": "acme", "group.name": "Acme", "group.plan": "team"}
    (group,) = events(session, "group")
    assert group.properties == {"group_id": "acme", "traits": {"name": "Acme", "plan": "team"}}


def test_a_bad_batch_is_refused_whole_with_the_index_and_reason_of_each_bad_message(
    segment: TestClient, session: Session
) -> None:
    batch = [
        {"type": "track", "userId": "u-1", "event": "Fine"},
        {"type": "track", "userId": "u-1"},
        {"type": "identify", "userId": "u-1", "traits": {"email": "not an email"}},
        {"type": "track", "event": "Nobody"},
        {"type": "track", "userId": "u-1", "event": "Late", "timestamp": "1999-12-31T00:00:00Z"},
        {"type": "wave", "userId": "u-1"},
    ]

    response = post(segment, "/segment/v1/batch", {"batch": batch})

    assert response.status_code == 400
    answer = response.json()
    assert answer["success"] is False
    assert answer["code"] == "invalid_request"
    assert [(e["index"], e["field"]) for e in answer["errors"]] == [
        (1, "event"),
        (2, "traits"),
        (3, "userId"),
        (4, "timestamp"),
        (5, "type"),
    ]
    assert count(session, Event) == 0
    assert count(session, Contact) == 0


def test_the_limits_are_segments(segment: TestClient, session: Session) -> None:
    big = {"type": "track", "userId": "u-1", "event": "Big", "properties": {"x": "y" * 33_000}}
    small = {"type": "track", "userId": "u-1", "event": "Small"}

    refused = post(segment, "/segment/v1/batch", {"batch": [small, big]})
    too_large = post(segment, "/segment/v1/batch", {"batch": [small] * 12_000})

    assert refused.status_code == 400
    assert refused.json()["errors"] == [
        {"index": 1, "field": None, "reason": "the message is larger than 32 KB"}
    ]
    assert too_large.status_code == 413
    assert count(session, Event) == 0


def test_a_zip_bomb_is_refused_without_being_opened_whole(segment: TestClient) -> None:
    bomb = gzip.compress(b'{"batch": [' + b" " * 5_000_000 + b"]}")

    response = segment.post(
        "/segment/v1/batch",
        content=bomb,
        headers={"Content-Type": "application/json", "Content-Encoding": "gzip"},
    )

    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"


def test_broken_gzip_and_bad_json_are_400(segment: TestClient) -> None:
    headers = {"Content-Type": "application/json", "Content-Encoding": "gzip"}
    assert (
        segment.post("/segment/v1/batch", content=b"not gzip", headers=headers).status_code == 400
    )
    cut = gzip.compress(b'{"batch": []}')[:-6]
    assert segment.post("/segment/v1/batch", content=cut, headers=headers).status_code == 400
    assert segment.post("/segment/v1/batch", content=b"{oops").json()["code"] == "invalid_request"


def test_without_a_valid_key_nothing_is_stored(
    client: TestClient, session: Session, redis: Any
) -> None:
    body = {"batch": [{"type": "track", "userId": "u-1", "event": "X"}]}
    wrong = "Basic " + base64.b64encode(b"not-a-key:").decode()

    for headers in ({}, {"Authorization": wrong}, {"Authorization": "Basic %%%"}):
        response = client.post("/segment/v1/batch", json=body, headers=headers)
        assert response.status_code == 401
        assert response.json()["code"] == "unauthorized"
    assert count(session, Event) == 0


def test_an_identify_heavy_batch_is_written_in_bulk(
    segment: TestClient, session: Session, engine: Any
) -> None:
    session.add_all(
        Contact(external_id=f"old-{n}", email=f"old{n}@shop.example") for n in range(200)
    )
    session.commit()
    batch = [
        {
            "type": "identify",
            "userId": f"{kind}-{n}",
            "traits": {"email": f"{kind}{n}@shop.example", "plan": "pro"},
        }
        for kind in ("old", "new")
        for n in range(200)
    ]
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement.split()[0])

    sqlalchemy_event.listen(engine, "before_cursor_execute", count)
    try:
        response = post(segment, "/segment/v1/batch", {"batch": batch})
    finally:
        sqlalchemy_event.remove(engine, "before_cursor_execute", count)

    assert response.status_code == 200, response.text
    assert session.exec(select(func.count()).where(Event.name == "attribute_changed")).one() == 200
    assert session.exec(select(func.count()).where(Event.name == "contact_created")).one() == 200
    # 400 people: a few statements per kind of write, not one (or more) per contact
    assert len(statements) < 20, statements


def test_an_anonymous_visitors_events_are_forgotten_after_a_month_of_waiting(
    segment: TestClient, session: Session
) -> None:
    page = {"type": "page", "anonymousId": "visitor-1", "name": "Home", "messageId": "m-1"}
    assert post(segment, "/segment/v1/batch", {"batch": [page]}).status_code == 200
    (waiting,) = session.exec(select(AnonymousEvent)).all()

    assert forget_old_anonymous_events(session, waiting.received_at + ANONYMOUS_KEPT) == 0
    assert forget_old_anonymous_events(session, waiting.received_at + ANONYMOUS_KEPT * 1.1) == 1
    assert count(session, AnonymousEvent) == 0
