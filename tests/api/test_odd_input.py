"""Input no client should send is refused in plain words (4xx), never answered 500 (issue 12).

Numbers past what a column holds, NUL characters and broken surrogates (PostgreSQL cannot store
them), NaN, braces in an email (once formatted into an error message), bodies too large or too
deeply nested: each is refused before anything is written, on SQLite and on PostgreSQL alike.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, func, select

from app.clock import FrozenClock
from app.config import Settings
from app.models import (
    Contact,
    ContactImport,
    ContactList,
    Event,
    MessageTemplate,
    Scenario,
    Segment,
)
from app.request_guard import MAX_JSON_DEPTH
from tests.fixtures.web import Browser

HUGE = 2**64  # past 64 bits: SQLite overflows
PAST_INT32 = 2**31  # past the INTEGER ids of PostgreSQL
TABLES = (Contact, ContactList, Segment, Event, MessageTemplate, Scenario, ContactImport)
EMPTY_GRAPH = {"schema": 1, "nodes": [], "edges": []}


@pytest.fixture
def api(client: TestClient, api_key: str, app: Any, redis: Any) -> TestClient:
    app.state.clock = FrozenClock(datetime(2026, 2, 1, 10, 0, tzinfo=UTC))
    client.headers["Authorization"] = f"Bearer {api_key}"
    return client


@pytest.fixture
def scenario(session: Session) -> Scenario:
    found = Scenario(name="Welcome", draft=dict(EMPTY_GRAPH))
    session.add(found)
    session.commit()
    return found


def rows(session: Session) -> dict[str, int]:
    return {
        model.__name__: int(session.exec(select(func.count()).select_from(model)).one())
        for model in TABLES
    }


def send_json(client: TestClient, method: str, url: str, body: Any, **headers: str) -> Any:
    """The body as Python's json module writes it (NaN allowed, surrogates escaped)."""
    return client.request(
        method,
        url,
        content=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", **headers},
    )


@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        ("GET", f"/api/v1/contacts/{HUGE}", None),
        ("GET", f"/api/v1/contacts/{PAST_INT32}", None),
        ("DELETE", f"/api/v1/contacts/{HUGE}", None),
        ("GET", f"/api/v1/contacts/{HUGE}/export", None),
        ("GET", f"/api/v1/contacts?before={HUGE}", None),
        ("GET", f"/api/v1/contacts/1/events?before={2**63}", None),
        ("GET", f"/api/v1/lists/newsletter/contacts?before={HUGE}", None),
        ("GET", f"/api/v1/segments/buyers/contacts?before={PAST_INT32}", None),
        ("GET", f"/api/v1/scenarios/{PAST_INT32}/stats", None),
        ("GET", f"/api/v1/scenarios/1/nodes/start/contacts?after={2**63}", None),
        ("PUT", "/api/v1/scenarios/1/graph", {"graph": EMPTY_GRAPH, "revision": PAST_INT32}),
        ("POST", "/api/v1/scenarios/1/enroll", {"contact_ids": [PAST_INT32]}),
        ("POST", "/api/v1/lists/newsletter/contacts", {"contact_ids": [HUGE]}),
        ("POST", "/api/v1/events", {"name": "visit", "contact_id": HUGE}),
        ("POST", "/api/v1/events/batch", {"events": [{"name": "visit", "contact_id": HUGE}]}),
        ("POST", "/api/v1/contacts", {"email": "a@shop.example", "attributes": {"score": 10**400}}),
        ("POST", "/api/v1/contacts", {"email": "a@shop.example", "attributes": {"n": HUGE}}),
    ],
)
def test_a_number_too_large_for_the_database_is_refused(
    api: TestClient, session: Session, method: str, url: str, body: Any
) -> None:
    before = rows(session)

    response = api.request(method, url, json=body)

    assert response.status_code == 422, response.text
    assert rows(session) == before


def test_pages_refuse_numbers_too_large_for_the_database(logged_in: Browser) -> None:
    for url in (f"/contacts/{HUGE}", f"/scenarios/{PAST_INT32}", f"/mailbox?page={2**62}"):
        assert logged_in.client.get(url).status_code == 422, url


@pytest.mark.parametrize("email", ["a}b", "{0}", "{", "{email}@"])
def test_an_email_with_braces_is_refused_with_its_reason(api: TestClient, email: str) -> None:
    single = api.post("/api/v1/events", json={"name": "visit", "contact": {"email": email}})
    batch = api.post(
        "/api/v1/events/batch", json={"events": [{"name": "visit", "contact": {"email": email}}]}
    )

    reason = f"{email!r} is not a valid email address (like name@example.com)"
    assert single.status_code == 422, single.text
    assert single.json()["detail"]["errors"] == [{"field": "contact.email", "reason": reason}]
    assert batch.status_code == 422, batch.text
    assert batch.json()["detail"]["errors"] == [
        {"index": 0, "field": "contact.email", "reason": reason}
    ]


NUL = "a\x00b"
LEA = {"email": "lea@shop.example"}
NUL_BODIES = [
    ("POST", "/api/v1/contacts", {"email": "lea\x00@shop.example"}),
    ("POST", "/api/v1/contacts", {"email": "lea@shop.example", "first_name": NUL}),
    ("POST", "/api/v1/contacts", {"email": "lea@shop.example", "external_id": NUL}),
    ("POST", "/api/v1/contacts", {"email": "lea@shop.example", "attributes": {"city": NUL}}),
    ("POST", "/api/v1/contacts", {"email": "lea@shop.example", "attributes": {NUL: "Lyon"}}),
    ("POST", "/api/v1/contacts", {"email": "lea@shop.example", "lists": [NUL]}),
    ("POST", "/api/v1/lists", {"key": NUL, "name": "News"}),
    ("POST", "/api/v1/lists", {"key": "news", "name": NUL}),
    ("POST", "/api/v1/lists", {"key": "news", "name": "News", "description": NUL}),
    ("POST", "/api/v1/segments", {"key": "s", "name": NUL, "condition": {"all": []}}),
    (
        "POST",
        "/api/v1/segments",
        {"key": "s", "name": "S", "condition": {"attribute": "city", "op": "eq", "value": NUL}},
    ),
    (
        "POST",
        "/api/v1/segments/count",
        {"condition": {"event": NUL, "op": "count_gte", "value": 1}},
    ),
    ("POST", "/api/v1/events", {"name": NUL, "contact": {"email": "lea@shop.example"}}),
    ("POST", "/api/v1/events", {"id": NUL, "name": "visit", "contact": LEA}),
    (
        "POST",
        "/api/v1/events",
        {"name": "cart", "contact": LEA, "properties": {"items": [{"sku": {"code": NUL}}]}},
    ),
    ("POST", "/api/v1/events", {"name": "cart", "contact": LEA, "properties": {NUL: 1}}),
    ("POST", "/api/v1/events/batch", {"events": [{"name": "visit", "contact": LEA, "id": NUL}]}),
    ("POST", "/api/v1/messages", {"key": "hi", "name": "Hi", "subject": NUL, "html": "<p>Hi</p>"}),
    ("POST", "/api/v1/messages", {"key": "hi", "name": "Hi", "subject": "Hi", "html": NUL}),
    ("POST", "/api/v1/scenarios", {"name": NUL}),
    ("POST", "/api/v1/scenarios", {"name": "Hello", "graph": {"nodes": [{"id": NUL}]}}),
    ("PUT", "/api/v1/scenarios/1/graph", {"graph": {"nodes": [], "x": NUL}, "revision": 1}),
    (
        "POST",
        "/api/v1/scenarios/import",
        {"name": "Shared", "graph": EMPTY_GRAPH, "lists": [{"key": "k", "name": NUL}]},
    ),
    ("POST", "/api/track", {"key": "site_x", "contact": LEA, "events": [{"name": NUL}]}),
]


@pytest.mark.parametrize(("method", "url", "body"), NUL_BODIES)
def test_text_holding_nul_is_refused_in_every_field(
    api: TestClient, session: Session, scenario: Scenario, method: str, url: str, body: Any
) -> None:
    before = rows(session)

    response = send_json(api, method, url, body)

    assert response.status_code == 422, response.text
    assert "NUL character" in response.json()["detail"]
    assert rows(session) == before


@pytest.mark.parametrize(
    "url", ["/api/v1/contacts?email=a%00b@shop.example", "/api/v1/lists/a%00b/contacts"]
)
def test_nul_in_the_address_is_refused(api: TestClient, url: str) -> None:
    response = api.get(url)

    assert response.status_code == 422
    assert "NUL character" in response.json()["detail"]


@pytest.mark.parametrize(
    ("url", "body"),
    [
        ("/api/v1/lists", {"key": "news", "name": "\ud800"}),
        ("/api/v1/events", {"name": "visit\udfff", "contact_id": 1}),
    ],
)
def test_half_a_surrogate_pair_is_refused(
    api: TestClient, session: Session, url: str, body: Any
) -> None:
    before = rows(session)

    response = send_json(api, "POST", url, body)

    assert response.status_code == 422, response.text
    assert "broken character" in response.json()["detail"]
    assert rows(session) == before


def test_an_emoji_written_as_a_surrogate_pair_is_kept(api: TestClient) -> None:
    response = send_json(api, "POST", "/api/v1/lists", {"key": "fans", "name": "Fans 🎉"})

    assert response.status_code == 201, response.text
    assert response.json()["name"] == "Fans 🎉"


@pytest.mark.parametrize("number", [float("nan"), float("inf"), float("-inf")])
def test_nan_and_infinity_are_refused(
    api: TestClient, session: Session, scenario: Scenario, number: float
) -> None:
    before = rows(session)
    graph = {"schema": 1, "nodes": [{"id": "a", "type": "trigger", "kind": "manual", "x": number}]}

    contact = send_json(
        api, "POST", "/api/v1/contacts", {"email": "lea@shop.example", "attributes": {"n": number}}
    )
    draft = send_json(api, "PUT", "/api/v1/scenarios/1/graph", {"graph": graph, "revision": 1})

    assert (contact.status_code, draft.status_code) == (422, 422), (contact.text, draft.text)
    assert "finite number" in draft.json()["detail"]
    assert rows(session) == before


def test_pages_refuse_nul_in_forms_json_and_csv_files(
    logged_in: Browser, session: Session, scenario: Scenario
) -> None:
    before = rows(session)

    form = logged_in.post("/lists", {"key": "news", "name": NUL})
    autosave = logged_in.client.put(
        f"/scenarios/{scenario.id}/draft",
        content=json.dumps({"graph": {"nodes": [], "x": NUL}, "revision": 1}),
        headers={"Content-Type": "application/json", "X-CSRF-Token": logged_in.csrf},
    )
    upload = logged_in.client.post(
        "/contacts/import",
        files={"file": ("shop.csv", "email\nlea@shop.example\x00\n".encode("utf-16"), "text/csv")},
        data={"csrf_token": logged_in.csrf},
    )

    assert form.status_code == 422
    assert "NUL character" in form.text
    assert autosave.status_code == 422
    assert "NUL character" in autosave.json()["detail"]
    assert upload.status_code == 422
    assert "NUL characters" in upload.text
    assert rows(session) == before


@pytest.fixture
def small_bodies(settings: Settings) -> Settings:
    settings.max_body_bytes = 5_000
    return settings


def test_every_body_past_the_cap_is_refused_with_413(
    small_bodies: Settings, api: TestClient, logged_in: Browser, session: Session
) -> None:
    before = rows(session)
    padding = "x" * 6_000
    csrf = {"X-CSRF-Token": logged_in.csrf}

    answers = [
        api.post("/api/v1/contacts", json={"email": "a@shop.example", "last_name": padding}),
        api.post("/api/v1/scenarios", json={"name": "Big", "description": padding}),
        # Streamed without a Content-Length: counted as it comes.
        api.post(
            "/api/v1/lists",
            content=iter([b'{"key": "k", "name": "', padding.encode(), b'"}']),
            headers={"Content-Type": "application/json"},
        ),
        logged_in.client.put(
            "/scenarios/1/draft", json={"graph": {"p": padding}, "revision": 1}, headers=csrf
        ),
        logged_in.post("/lists", {"key": "big", "name": "Big", "description": padding}),
    ]

    assert [a.status_code for a in answers] == [413] * len(answers), [a.text for a in answers]
    assert "larger than 5,000 bytes" in answers[0].json()["detail"]
    assert "larger than 5,000 bytes" in answers[-1].text
    assert rows(session) == before


def test_bodies_under_the_cap_and_events_under_their_own_cap_go_through(
    small_bodies: Settings, api: TestClient
) -> None:
    contact = api.post("/api/v1/contacts", json={"email": "a@shop.example", "last_name": "x" * 100})
    event = api.post(
        "/api/v1/events",
        json={
            "name": "visit",
            "contact": {"email": "a@shop.example"},
            "properties": {"p": "x" * 9_000},
        },
    )

    assert contact.status_code == 201, contact.text
    assert event.status_code == 202, event.text


def test_json_nested_too_deeply_is_refused(api: TestClient, session: Session) -> None:
    deep: Any = "Lyon"
    for _ in range(MAX_JSON_DEPTH + 5):
        deep = {"all": [deep]}
    before = rows(session)

    response = api.post("/api/v1/segments", json={"key": "d", "name": "Deep", "condition": deep})
    brackets_in_text = api.post("/api/v1/lists", json={"key": "b", "name": "[" * 150})

    assert response.status_code == 422
    assert "nested more than" in response.json()["detail"]
    assert brackets_in_text.status_code == 201, brackets_in_text.text
    assert rows(session)["ContactList"] == before["ContactList"] + 1


LONG = "x" * 600
LONG_TEXT = [
    (
        "/api/v1/contacts",
        {"email": "lea@shop.example", "consent": {"email": {"granted": True, "source": LONG}}},
    ),
    ("/api/v1/messages", {"key": "hi", "name": LONG, "subject": "Hi", "html": "<p>Hi</p>"}),
    ("/api/v1/messages", {"key": "hi", "name": "Hi", "subject": LONG, "html": "<p>Hi</p>"}),
    (
        "/api/v1/messages",
        {"key": "hi", "name": "Hi", "subject": "Hi", "html": "<p>Hi</p>", "from_name": LONG},
    ),
    (
        "/api/v1/messages",
        {
            "key": "hi",
            "name": "Hi",
            "subject": "Hi",
            "html": "<p>Hi</p>",
            "reply_to": LONG + "@shop.example",
        },
    ),
    ("/api/v1/scenarios/import", {"name": "Shared", "graph": EMPTY_GRAPH, "key": LONG}),
    (
        "/api/v1/scenarios/import",
        {"name": "Shared", "graph": EMPTY_GRAPH, "lists": [{"key": "k", "name": LONG}]},
    ),
    (
        "/api/v1/scenarios/import",
        {
            "name": "Shared",
            "graph": EMPTY_GRAPH,
            "messages": [{"key": "m", "name": LONG, "subject": "Hi"}],
        },
    ),
    (
        "/api/v1/segments",
        {"key": "s", "name": "S", "description": LONG * 100, "condition": {"all": []}},
    ),
]


@pytest.mark.parametrize(("url", "body"), LONG_TEXT)
def test_text_longer_than_its_column_is_refused(
    api: TestClient, session: Session, url: str, body: Any
) -> None:
    before = rows(session)

    response = api.post(url, json=body)

    assert response.status_code in (201, 422), response.text
    if response.status_code == 201:  # kept whole, or refused: never cut short silently
        assert LONG in response.text
    else:
        assert rows(session) == before


def test_pages_refuse_nul_in_multipart_forms_too(logged_in: Browser, session: Session) -> None:
    # Every Form() route also takes multipart/form-data: NUL there must not reach the database.
    before = rows(session)
    fields = {"key": (None, "news"), "name": (None, NUL), "csrf_token": (None, logged_in.csrf)}

    form = logged_in.client.post("/lists", files=fields)

    assert form.status_code == 422, form.text
    assert "NUL character" in form.text
    assert rows(session) == before
