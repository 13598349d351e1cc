"""A document not shaped like a scenario is refused at save; an unfinished draft is kept.

Drafts are saved while they are being drawn, invalid or not, and come back with their issues.
But ``"nodes": 3``, a link without an end, a block without an id or a number where text belongs
is no draft anyone drew: every way of saving one (the API's draft, create and import, and the
canvas autosave) refuses it with 422 and the reasons, and writes nothing.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, func, select

from app.models import ContactList, MessageTemplate, Scenario
from tests.fixtures.web import Browser

TRIGGER = {"id": "start", "type": "trigger", "kind": "manual", "config": {}}
MALFORMED: list[tuple[Any, str]] = [
    ({"schema": 1, "nodes": 3, "edges": []}, "'nodes' must be a list of blocks"),
    ({"nodes": [TRIGGER], "edges": {"from": "start"}}, "'edges' must be a list of links"),
    ({"nodes": [TRIGGER], "edges": [{"from": "start"}]}, "the link at position 1 needs 'to'"),
    ({"nodes": [TRIGGER], "edges": [{"to": "start"}]}, "the link at position 1 needs 'from'"),
    ({"nodes": [TRIGGER], "edges": [7]}, "the link at position 1 must be an object"),
    ({"nodes": [{"type": "trigger", "kind": "manual"}]}, "the block at position 1 needs an id"),
    ({"nodes": [{**TRIGGER, "id": 5}]}, "the block at position 1 needs an id"),
    ({"nodes": [TRIGGER, TRIGGER]}, "two blocks have the id 'start'"),
    ({"nodes": [{**TRIGGER, "type": 1}]}, "the block at position 1 needs a 'type'"),
    ({"nodes": [{**TRIGGER, "config": [1]}]}, "('config') of the block at position 1 must be"),
    ({"nodes": [{**TRIGGER, "x": "left"}]}, "'x' of the block at position 1 must be a number"),
    ({"nodes": ["start"]}, "the block at position 1 must be an object"),
    ({"nodes": [], "settings": "once"}, "'settings' must be an object"),
    ({"schema": 2, "nodes": []}, "'schema' must be 1"),
]
# Well-formed, but far from ready: saved, with the issues to fix.
UNFINISHED = {
    "schema": 1,
    "nodes": [
        TRIGGER,
        {"id": "wait", "type": "delay", "kind": "wait", "config": {"seconds": "soon"}},
        {"id": "mail", "type": "action", "kind": "send_email", "config": {}},
    ],
    "edges": [{"from": "start", "to": "wait"}, {"from": "wait", "to": "nowhere"}],
}


@pytest.fixture
def api(client: TestClient, api_key: str) -> TestClient:
    client.headers["Authorization"] = f"Bearer {api_key}"
    return client


def new_scenario(api: TestClient) -> dict[str, Any]:
    response = api.post("/api/v1/scenarios", json={"name": "Welcome"})
    assert response.status_code == 201, response.text
    return dict(response.json())


def count(session: Session, model: Any) -> int:
    return int(session.exec(select(func.count()).select_from(model)).one())


@pytest.mark.parametrize(("graph", "reason"), MALFORMED)
def test_a_malformed_draft_is_refused_with_the_reason_and_nothing_changes(
    api: TestClient, graph: Any, reason: str
) -> None:
    scenario = new_scenario(api)

    response = api.put(
        f"/api/v1/scenarios/{scenario['id']}/graph", json={"graph": graph, "revision": 1}
    )

    assert response.status_code == 422, response.text
    assert response.json()["detail"].startswith("The scenario was not saved: ")
    assert reason in response.json()["detail"]
    again = api.get(f"/api/v1/scenarios/{scenario['id']}").json()
    assert (again["revision"], again["graph"]) == (1, scenario["graph"])


@pytest.mark.parametrize(("graph", "reason"), MALFORMED[:4])
def test_a_malformed_document_creates_no_scenario_and_imports_nothing(
    api: TestClient, session: Session, graph: Any, reason: str
) -> None:
    bundle = {
        "name": "Shared",
        "graph": graph,
        "lists": [{"key": "vip", "name": "VIP"}],
        "messages": [{"key": "hello", "name": "Hello", "subject": "Hi", "html": "<p>Hi</p>"}],
    }

    created = api.post("/api/v1/scenarios", json={"name": "Broken", "graph": graph})
    imported = api.post("/api/v1/scenarios/import", json=bundle)

    assert (created.status_code, imported.status_code) == (422, 422)
    assert reason in created.json()["detail"]
    assert reason in imported.json()["detail"]
    assert (count(session, Scenario), count(session, ContactList)) == (0, 0)
    assert count(session, MessageTemplate) == 0


def test_an_unfinished_draft_is_saved_with_its_issues(api: TestClient) -> None:
    scenario = new_scenario(api)

    response = api.put(
        f"/api/v1/scenarios/{scenario['id']}/graph", json={"graph": UNFINISHED, "revision": 1}
    )

    assert response.status_code == 200, response.text
    assert response.json()["revision"] == 2
    flagged = {issue["node"] for issue in response.json()["issues"]}
    assert {"wait", "mail"} <= flagged
    assert api.get(f"/api/v1/scenarios/{scenario['id']}").json()["graph"] == UNFINISHED


def test_the_canvas_autosave_refuses_a_malformed_draft_and_keeps_an_unfinished_one(
    logged_in: Browser, session: Session
) -> None:
    scenario = Scenario(name="Welcome", draft={"schema": 1, "nodes": [], "edges": []})
    session.add(scenario)
    session.commit()
    url = f"/scenarios/{scenario.id}/draft"
    csrf = {"X-CSRF-Token": logged_in.csrf}

    refused = logged_in.client.put(url, json={"graph": {"nodes": 3}, "revision": 1}, headers=csrf)
    kept = logged_in.client.put(url, json={"graph": UNFINISHED, "revision": 1}, headers=csrf)

    assert refused.status_code == 422
    assert "'nodes' must be a list of blocks" in refused.json()["detail"]
    assert kept.status_code == 200, kept.text
    assert kept.json()["revision"] == 2
