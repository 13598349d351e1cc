"""The Segment intake on odd input: every refusal is a 4xx in Segment's shape and writes
nothing; the spellings the libraries use (paths, auth, gzip members) all work (DESIGN §12.1)."""

from __future__ import annotations

import base64
import gzip
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, func, select

from app.models import AnonymousEvent, AnonymousLink, Contact, Event
from app.services.capture.segment_json import NotJson, read_batch

TRACK = {"type": "track", "userId": "u-1", "event": "Viewed"}
NOW = datetime(2025, 6, 1, 10, 0, tzinfo=UTC)


@pytest.fixture
def segment(client: TestClient, api_key: str, redis: Any) -> TestClient:
    client.headers["Authorization"] = "Basic " + base64.b64encode(f"{api_key}:".encode()).decode()
    return client


def count(session: Session, model: Any) -> int:
    return int(session.exec(select(func.count()).select_from(model)).one())


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"   ",
        b"[]",
        b'{"batch": {}}',
        b'{"batch": [] } trailing',
        b'{"batch": [1, "two", null]}',
        b'{"batch": [{"type": "track"}] ,}',
        b'{"sentAt": "x", "batch": [{"type": "track", "userId": true, "event": 3}]}',
        json.dumps({"batch": [{**TRACK, "timestamp": "2025-13-45T99:00:00Z"}]}).encode(),
        json.dumps({"batch": [{**TRACK, "timestamp": 1700000000}]}).encode(),
        json.dumps({"batch": [{**TRACK, "userId": "u" * 300}]}).encode(),
        json.dumps({"batch": [{**TRACK, "event": "contact_created"}]}).encode(),
        json.dumps({"batch": [{**TRACK, "event": "x" * 101}]}).encode(),
        json.dumps({"batch": [{**TRACK, "properties": [1]}]}).encode(),
        json.dumps({"batch": [{**TRACK, "context": "web"}]}).encode(),
        json.dumps({"batch": [{"type": "alias", "userId": "u-1"}]}).encode(),
        json.dumps({"batch": [{"type": "group", "userId": "u-1"}]}).encode(),
        json.dumps(
            {"batch": [{"type": "identify", "userId": "u", "traits": {"n": 2**70}}]}
        ).encode(),
        json.dumps({"batch": [{"type": "identify", "userId": "u", "traits": "vip"}]}).encode(),
        json.dumps(
            {"batch": [{"type": "identify", "userId": "u", "traits": {"phone": "12"}}]}
        ).encode(),
        json.dumps(
            {"batch": [{**TRACK, "messageId": "m"}, {**TRACK, "messageId": "m", "event": "Other"}]}
        ).encode(),
        json.dumps({"batch": [TRACK] * 1001}).encode(),
    ],
)
def test_odd_batches_are_refused_with_400_and_write_nothing(
    segment: TestClient, session: Session, body: bytes
) -> None:
    response = segment.post(
        "/segment/v1/batch", content=body, headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 400, response.text
    assert response.json()["success"] is False
    assert response.json()["message"]
    assert count(session, Event) == 0
    assert count(session, Contact) == 0


def test_an_empty_email_trait_leaves_the_address_alone(
    segment: TestClient, session: Session
) -> None:
    link = {"type": "identify", "anonymousId": "a-1", "traits": {"email": "eve@shop.example"}}
    empty = {"type": "identify", "anonymousId": "a-1", "traits": {"email": "", "plan": "pro"}}

    response = segment.post("/segment/v1/batch", json={"batch": [link, empty]})

    assert response.status_code == 200, response.text
    eve = session.exec(select(Contact)).one()
    assert (eve.email, eve.attributes) == ("eve@shop.example", {"plan": "pro"})


def test_an_email_of_another_contact_is_not_moved_nor_merged(
    segment: TestClient, session: Session
) -> None:
    session.add(Contact(email="max@shop.example", external_id="crm-1"))
    session.commit()
    body = {"userId": "crm-2", "traits": {"email": "max@shop.example", "plan": "pro"}}

    assert segment.post("/segment/v1/identify", json=body).status_code == 200

    other = session.exec(select(Contact).where(Contact.external_id == "crm-2")).one()
    assert (other.email, other.attributes) == (None, {"plan": "pro"})
    assert count(session, Contact) == 2


def test_the_libraries_spellings_all_reach_the_intake(
    segment: TestClient, api_key: str, session: Session
) -> None:
    two_members = gzip.compress(b'{"batch": [') + gzip.compress(
        json.dumps({**TRACK, "messageId": "g-1"}).encode() + b"]}"
    )
    zipped = {"Content-Type": "application/json", "Content-Encoding": "gzip"}
    bearer = {"Authorization": f"Bearer {api_key}"}

    answers = [
        segment.post("/segment/v1/batch", content=two_members, headers=zipped),
        segment.post("/segment/v1/import", json={"batch": [{**TRACK, "messageId": "i-1"}]}),
        segment.post("/v1/batch", json={"batch": [{**TRACK, "messageId": "v-1"}]}),
        segment.post("/v1/page", json={"userId": "u-1", "messageId": "p-1", "type": "track"}),
        segment.post("/segment/v1/track", json={**TRACK, "messageId": "b-1"}, headers=bearer),
        segment.post("/segment/v1/batch", json={"batch": []}),
    ]

    assert [a.status_code for a in answers] == [200] * 6
    stored = session.exec(select(Event.uid, Event.name).where(Event.name != "contact_created"))
    assert sorted(stored) == [
        ("b-1", "Viewed"),
        ("g-1", "Viewed"),
        ("i-1", "Viewed"),
        ("p-1", "page_view"),  # the path says what the single call is
        ("v-1", "Viewed"),
    ]


def test_other_encodings_are_415_and_bodies_past_500_kb_are_413(segment: TestClient) -> None:
    big = json.dumps({"batch": [TRACK] * 900, "pad": "x" * 520_000}).encode()

    brotli = segment.post("/segment/v1/batch", content=b"xx", headers={"Content-Encoding": "br"})
    plain = segment.post("/segment/v1/batch", content=big)
    zipped = segment.post(
        "/segment/v1/batch", content=gzip.compress(big), headers={"Content-Encoding": "gzip"}
    )

    assert (brotli.status_code, brotli.json()["code"]) == (415, "unsupported_encoding")
    assert (plain.status_code, plain.json()["code"]) == (413, "payload_too_large")
    assert (zipped.status_code, zipped.json()["code"]) == (413, "payload_too_large")


def test_the_guard_checks_the_json_inside_a_gzipped_body(
    segment: TestClient, session: Session
) -> None:
    nul = json.dumps({"batch": [{**TRACK, "properties": {"x": "a\u0000b"}}]}).encode()

    response = segment.post(
        "/segment/v1/batch", content=gzip.compress(nul), headers={"Content-Encoding": "gzip"}
    )

    assert response.status_code == 422
    assert count(session, Event) == 0


def test_a_retried_anonymous_batch_waits_once(segment: TestClient, session: Session) -> None:
    batch = {"batch": [{"type": "track", "messageId": "w-1", "anonymousId": "a", "event": "V"}]}

    for _ in range(3):
        assert segment.post("/segment/v1/batch", json=batch).status_code == 200

    assert count(session, AnonymousEvent) == 1


def test_a_batch_is_read_with_each_messages_size() -> None:
    small, large = {"a": "é" * 10}, {"a": "é" * 9_000}  # 9,000 characters, 18,000 bytes
    body = json.dumps({"sentAt": "t", "batch": [small, large]}, ensure_ascii=False).encode()

    fields, items = read_batch(body, 16_000)

    assert fields == {"sentAt": "t"}
    assert items == [(small, False), (large, True)]
    with pytest.raises(NotJson, match="not valid JSON"):
        read_batch(b'{"batch": [}', 16_000)


def test_an_event_left_waiting_by_a_race_joins_at_the_visitors_next_message(
    segment: TestClient, session: Session
) -> None:
    # As if an anonymous event had been stored while its link was being written elsewhere.
    known = Contact(external_id="u-9")
    session.add(known)
    session.flush()
    session.add(AnonymousLink(anonymous_id="a-9", contact_id=known.id))
    late = AnonymousEvent(uid="late-1", anonymous_id="a-9", name="Viewed", occurred_at=NOW)
    session.add(late)
    session.commit()

    next_one = {"userId": "u-9", "anonymousId": "a-9", "event": "Bought", "messageId": "n-1"}
    assert segment.post("/segment/v1/track", json=next_one).status_code == 200

    moved = session.exec(select(Event).where(Event.uid == "late-1")).one()
    assert (moved.contact_id, moved.processed_at) == (known.id, None)  # for the engine now
    assert count(session, AnonymousEvent) == 0


def test_past_the_keys_rate_limit_the_answer_is_429_with_retry_after(
    app: FastAPI, api_key: str, redis: Any
) -> None:
    app.state.settings = app.state.settings.model_copy(update={"api_rate_limit": 1})
    auth = {"Authorization": "Basic " + base64.b64encode(f"{api_key}:".encode()).decode()}
    with TestClient(app) as client:
        first = client.post("/segment/v1/track", json=TRACK, headers=auth)
        second = client.post("/segment/v1/track", json=TRACK, headers=auth)

    assert first.status_code == 200
    assert (second.status_code, second.json()["code"]) == (429, "rate_limited")
    assert int(second.headers["Retry-After"]) >= 1
