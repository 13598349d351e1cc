"""Condition limits over the API and on the pages: refused at save with the reason, and a stored
segment that cannot be evaluated is shown with why, never answered with a server error."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, func, select

from app.models import Segment
from tests.fixtures.web import Browser

JsonDict = dict[str, Any]
LYON: JsonDict = {"attribute": "city", "op": "eq", "value": "Lyon"}
IMPOSSIBLE: JsonDict = {"event": "purchase", "op": "count_gte", "value": 2**63}


@pytest.fixture
def api(client: TestClient, api_key: str, redis: Any) -> TestClient:
    client.headers["Authorization"] = f"Bearer {api_key}"
    return client


def nested_not(levels: int) -> JsonDict:
    condition = LYON
    for _ in range(levels):
        condition = {"not": condition}
    return condition


def planted(session: Session, key: str, condition: JsonDict, reason: str | None = None) -> None:
    """A segment stored as an old version or a hand edit could leave it, past validation."""
    session.add(Segment(key=key, name=key.title(), condition=condition, broken_reason=reason))
    session.commit()


def segments_stored(session: Session) -> int:
    return int(session.exec(select(func.count()).select_from(Segment)).one())


@pytest.mark.parametrize(
    ("condition", "words"),
    [
        (nested_not(60), "groups are nested more than 10 levels deep"),
        ({"attribute": "sku", "op": "in", "value": [str(n) for n in range(5000)]},
         "the condition lists more than 2,000 values in all"),
        ({"attribute": "sku", "op": "in", "value": [str(n) for n in range(501)]},
         "value: 'is one of' takes at most 500 values"),
        ({"attribute": "city\n", "op": "exists"}, "attribute names may only use letters"),
        ({"attribute": "note", "op": "contains", "value": "x" * 2001}, "longer than 2,000"),
        ({"attribute": "orders", "op": "gte", "value": 2**63}, "the number is too large"),
        ({"event": "purchase", "op": "count_gte", "value": 2**31},
         "the number of times can be at most 1,000,000"),
        ({"event": "pur\u001bchase", "op": "none"}, "invisible control characters"),
    ],
)  # fmt: skip
def test_a_segment_beyond_the_limits_is_refused_with_the_reason_and_nothing_is_saved(
    api: TestClient, session: Session, condition: JsonDict, words: str
) -> None:
    created = api.post(
        "/api/v1/segments", json={"key": "big", "name": "Big", "condition": condition}
    )
    api.post("/api/v1/segments", json={"key": "ok", "name": "OK", "condition": LYON})
    updated = api.put("/api/v1/segments/ok", json={"name": "OK", "condition": condition})
    counted = api.post("/api/v1/segments/count", json={"condition": condition})

    for response in (created, updated, counted):
        assert response.status_code == 422, response.text
        assert response.json()["detail"].startswith("The condition ")
        assert words in response.json()["detail"]
    assert segments_stored(session) == 1
    assert api.get("/api/v1/segments/ok").json()["condition"] == LYON


def test_a_condition_at_the_limits_is_saved_and_counted(api: TestClient) -> None:
    deep = nested_not(8)  # ten levels with the group around it and the test itself
    # 500 + 500 + 500 + 499 listed values and "Lyon": the 2,000 values allowed in all.
    wide = [
        {"attribute": "sku", "op": "in", "value": [f"{r}-{n}" for n in range(size)]}
        for r, size in enumerate([500, 500, 500, 499])
    ]
    condition = {
        "all": [deep, {"any": wide}, {"event": "purchase", "op": "count_lt", "value": 1_000_000}]
    }

    created = api.post(
        "/api/v1/segments", json={"key": "edge", "name": "Edge", "condition": condition}
    )

    assert created.status_code == 201, created.text
    assert api.get("/api/v1/segments/edge").json()["members"] == 0
    assert api.get("/api/v1/segments/edge/contacts").json()["contact_ids"] == []  # fmt: skip


def test_a_stored_segment_that_cannot_be_evaluated_is_shown_with_the_reason(
    api: TestClient, session: Session
) -> None:
    planted(session, "impossible", IMPOSSIBLE)

    read = api.get("/api/v1/segments/impossible")
    members = api.get("/api/v1/segments/impossible/contacts")
    listed = api.get("/api/v1/segments")

    reason = (
        "This segment could not be evaluated: value: the number of times can be at most"
        " 1,000,000. Correct it and save it again."
    )
    assert read.status_code == 200
    assert read.json()["members"] is None
    assert read.json()["broken_reason"] == reason
    assert members.status_code == 422
    assert members.json()["detail"] == reason
    assert listed.status_code == 200


def test_the_watchers_mark_is_in_the_json_and_a_good_save_clears_it(
    api: TestClient, session: Session
) -> None:
    planted(session, "impossible", IMPOSSIBLE, reason="This segment could not be evaluated: …")

    assert api.get("/api/v1/segments").json()[0]["broken_reason"] == (
        "This segment could not be evaluated: …"
    )
    saved = api.put("/api/v1/segments/impossible", json={"name": "Fixed", "condition": LYON})

    assert saved.status_code == 200
    assert saved.json()["broken_reason"] is None
    stored = session.exec(select(Segment)).one()
    session.refresh(stored)
    assert (stored.broken_reason, stored.broken_at) == (None, None)


# --- scenario drafts ---------------------------------------------------------------------------


def draft(condition: JsonDict, goal: JsonDict | None = None) -> JsonDict:
    return {
        "schema": 1,
        "nodes": [
            {"id": "start", "type": "trigger", "kind": "event", "config": {"event": "purchase"}},
            {"id": "check", "type": "condition", "kind": "if", "config": {"if": condition}},
        ],
        "edges": [{"from": "start", "to": "check"}],
        "settings": {"exit_when": goal},
    }


def test_a_draft_beyond_the_limits_is_saved_with_its_issues_and_cannot_be_activated(
    api: TestClient,
) -> None:
    graph = draft(nested_not(60), goal={"event": "purchase", "op": "count_gte", "value": 2**40})

    created = api.post("/api/v1/scenarios", json={"name": "Deep", "graph": graph})
    assert created.status_code == 201, created.text
    scenario = created.json()
    activated = api.post(f"/api/v1/scenarios/{scenario['id']}/activate")

    errors = [
        (i["node"], i["field"], i["message"])
        for i in scenario["issues"]
        if i["severity"] == "error"
    ]
    assert errors == [
        ("check", "config.if", "Block 'If / else': the condition cannot be used: groups are nested"
         " more than 10 levels deep; move some rules up a level"),
        (None, "settings.exit_when", "Scenario settings: the goal cannot be used: value: the"
         " number of times can be at most 1,000,000"),
    ]  # fmt: skip
    assert scenario["graph"] == graph  # kept as drawn, so the marketer can correct it
    assert activated.status_code == 422
    assert api.get(f"/api/v1/scenarios/{scenario['id']}").json()["status"] == "draft"


def test_a_trigger_filter_beyond_the_limits_is_an_issue_on_the_trigger(api: TestClient) -> None:
    graph = draft(LYON)
    graph["nodes"][0]["config"]["where"] = {"attribute": 'say "hi"', "op": "exists"}

    issues = api.post("/api/v1/scenarios", json={"name": "F", "graph": graph}).json()["issues"]

    assert [(i["node"], i["field"], i["message"]) for i in issues if i["severity"] == "error"] == [
        ("start", "config.where", "Block 'When something happens': the filter cannot be used: property:"
         ' property names cannot contain double quotes (") or backslashes (\\)'),
    ]  # fmt: skip


# --- pages -------------------------------------------------------------------------------------


def test_the_segment_pages_show_a_broken_segment_with_the_reason(
    logged_in: Browser, session: Session
) -> None:
    reason = (
        "This segment could not be evaluated: value: the number of times can be at most"
        " 1,000,000. Correct it and save it again."
    )
    planted(session, "impossible", IMPOSSIBLE, reason=reason)
    shown = reason.replace("'", "&#39;")

    listing = logged_in.client.get("/segments")
    page = logged_in.client.get("/segments/impossible")
    count = logged_in.client.get("/segments/impossible/count")

    assert listing.status_code == 200
    assert "Needs fixing" in listing.text
    assert shown in listing.text
    assert page.status_code == 200
    assert "Scenarios skip this segment for now." in page.text
    assert shown in page.text
    assert count.status_code == 200
    assert "Can't be counted" in count.text
    assert shown in count.text


def test_the_live_count_and_a_save_refuse_a_condition_beyond_the_limits_in_words(
    logged_in: Browser, session: Session
) -> None:
    deep = json.dumps(nested_not(60))

    preview = logged_in.post("/segments/preview", {"condition": deep}, htmx=True)
    saved = logged_in.post("/segments", {"key": "deep", "name": "Deep", "condition": deep})

    assert preview.status_code == 200
    assert "groups are nested more than 10 levels deep" in preview.text
    assert saved.status_code == 422
    assert "groups are nested more than 10 levels deep" in saved.text
    assert segments_stored(session) == 0


def test_contacts_of_a_broken_segment_are_refused_in_words(
    logged_in: Browser, session: Session
) -> None:
    planted(session, "impossible", IMPOSSIBLE)

    contacts = logged_in.client.get("/contacts", params={"in": "segment:impossible"})
    export = logged_in.client.get("/contacts/export.csv", params={"in": "segment:impossible"})

    assert contacts.status_code == 422
    assert "This segment could not be evaluated" in contacts.text
    assert export.status_code == 422
    assert "This segment could not be evaluated" in export.text


@pytest.mark.parametrize(
    "condition",
    [nested_not(60), {"attribute": "sku", "op": "in", "value": [str(n) for n in range(5000)]}],
)
def test_a_stored_condition_beyond_the_limits_still_opens_and_is_counted_if_it_can_be(
    logged_in: Browser, session: Session, condition: JsonDict
) -> None:
    # Stored before the limits: it is tried (it may still run), never answered with a 500.
    planted(session, "old", condition)

    page = logged_in.client.get("/segments/old")
    count = logged_in.client.get("/segments/old/count")

    assert page.status_code == 200
    assert count.status_code == 200
    assert count.text == '<span class="num">0</span>' or "Can't be counted" in count.text


def test_a_stored_condition_that_no_longer_parses_opens_and_says_why_it_cannot_count(
    logged_in: Browser, session: Session
) -> None:
    planted(session, "old", {"attribute": "city", "op": "resembles", "value": "Lyon"})

    page = logged_in.client.get("/segments/old")
    count = logged_in.client.get("/segments/old/count")
    listing = logged_in.client.get("/segments")

    assert page.status_code == 200
    assert listing.status_code == 200
    assert "(condition no longer valid)" in listing.text
    assert "Can't be counted" in count.text
    assert "This segment could not be evaluated: operator: choose one of" in count.text
