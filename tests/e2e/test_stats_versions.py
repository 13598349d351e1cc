"""After a second version is published, a marketer sees each version on its own graph: the
statistics page shows version 2 with its counters and says three contacts are still on
version 1; one click shows version 1 with theirs, and a number opens those three contacts.
The canvas says it too.

Screenshots: test-artifacts/screenshots/stats-versions-*.png.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
import pytest

from app.db import create_db_engine, session_scope
from app.services.account.api_keys import create_api_key
from tests.fixtures.browser import LiveServer, log_in, run_worker_once, screenshot

pytestmark = pytest.mark.e2e


def graph(wait_id: str, seconds: int) -> dict[str, Any]:
    return {
        "schema": 1,
        "nodes": [
            {"id": "start", "type": "trigger", "kind": "event", "config": {"event": "joined"},
             "x": 60, "y": 120},
            {"id": wait_id, "type": "delay", "kind": "wait", "config": {"seconds": seconds},
             "x": 320, "y": 120},
            {"id": "score", "type": "action", "kind": "add_score", "config": {"points": 5},
             "x": 580, "y": 120},
        ],
        "edges": [{"from": "start", "to": wait_id}, {"from": wait_id, "to": "score"}],
        "settings": {"reentry": "once", "exit_when": None},
    }  # fmt: skip


def api_client(server: LiveServer) -> httpx.Client:
    engine = create_db_engine(server.settings.database_url)
    with session_scope(engine) as session:
        _, key = create_api_key(session, name=f"shop-{uuid.uuid4().hex[:6]}")
    engine.dispose()
    return httpx.Client(
        base_url=server.url + "/api/v1", headers={"Authorization": f"Bearer {key}"}, timeout=20
    )


def sign_up(api: httpx.Client, server: LiveServer, count: int, tag: str) -> None:
    for i in range(count):
        sent = api.post(
            "/events", json={"name": "joined", "contact": {"email": f"{tag}{i}@x.test"}}
        )
        assert sent.status_code == 202, sent.text
    run_worker_once(server)


def test_each_version_on_its_own_graph_and_the_contacts_still_on_version_1(
    live_server: LiveServer, page
) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    api = api_client(live_server)
    tag = uuid.uuid4().hex[:6]
    created = api.post("/scenarios", json={"name": "Welcome", "graph": graph("pause", 259200)})
    scenario = created.json()
    assert api.post(f"/scenarios/{scenario['id']}/activate").status_code == 200
    sign_up(api, live_server, 3, f"early-{tag}-")
    saved = api.put(
        f"/scenarios/{scenario['id']}/graph",
        json={"graph": graph("short", 3600), "revision": scenario["revision"]},
    )
    assert saved.status_code == 200, saved.text
    assert api.post(f"/scenarios/{scenario['id']}/activate").json()["version"] == 2
    sign_up(api, live_server, 2, f"late-{tag}-")
    api.close()

    log_in(page, live_server)
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"{live_server.url}/scenarios/{scenario['id']}/stats")
    expect(page.get_by_test_id("version-tab-2")).to_have_attribute("aria-current", "page")
    expect(page.get_by_test_id("live-node-pause")).to_have_count(0)
    short = page.locator('.block-counters[data-node="short"]')
    expect(short.locator('[data-counter="waiting"]')).to_contain_text("2")
    still = page.get_by_test_id("still-on-1")
    expect(still).to_have_text("3 contacts are still on version 1")
    screenshot(page, "stats-versions-live-1280")
    page.set_viewport_size({"width": 390, "height": 844})
    expect(still).to_be_visible()
    screenshot(page, "stats-versions-live-390")
    page.set_viewport_size({"width": 1280, "height": 800})

    still.click()
    page.wait_for_url(re.compile(r"/stats\?version=1$"))
    expect(page.get_by_test_id("live-node-short")).to_have_count(0)
    pause = page.locator('.block-counters[data-node="pause"]')
    expect(pause.locator('[data-counter="waiting"]')).to_contain_text("3")
    expect(page.get_by_test_id("older-version")).to_be_visible()
    screenshot(page, "stats-versions-v1-1280")

    pause.locator('[data-counter="waiting"]').click()
    page.wait_for_url(re.compile(r"/blocks/pause/contacts\?version=1&show=waiting$"))
    expect(page.get_by_test_id("drill-total")).to_have_text("3")
    expect(page.get_by_test_id("drill-version")).to_have_text("Version 1")

    page.goto(f"{live_server.url}/scenarios/{scenario['id']}")
    expect(page.get_by_test_id("still-on-1")).to_have_text("3 contacts are still on version 1")
    start = page.locator('.block-counters[data-node="start"]')
    expect(start.locator('[data-counter="entered"]')).to_contain_text("2")
    screenshot(page, "stats-versions-canvas-1280")
    page.set_viewport_size({"width": 1440, "height": 900})
    screenshot(page, "stats-versions-canvas-1440")
    page.set_viewport_size({"width": 390, "height": 844})
    expect(page.get_by_test_id("still-on-1")).to_be_visible()
    screenshot(page, "stats-versions-canvas-390")
