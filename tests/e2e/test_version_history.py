"""The version history in a real Chromium (issue 16 point 5): from the canvas the marketer
opens History, opens version 1, finds it read only (a banner says so; nothing can be dragged,
deleted or saved), and restores it as the draft; the canvas says how to make it live.

Screenshots: test-artifacts/screenshots/versions-*.png, at 1280 and 390 px.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import select

from app.clock import utcnow
from app.db import create_db_engine, session_scope
from app.models import ContactList, MessageTemplate, Scenario, User
from app.services.scenarios import scenarios as scenario_service
from tests.e2e import test_canvas_designer
from tests.e2e.test_canvas_designer import center, drag, open_editor
from tests.fixtures.browser import LiveServer, screenshot

pytestmark = pytest.mark.e2e
console_errors = test_canvas_designer.console_errors  # the same fixture: no console errors


def welcome(tag: str, wait_days: int, last: str) -> dict[str, Any]:
    nodes = [
        {"id": "joined", "type": "trigger", "kind": "list_added",
         "config": {"list": f"news-{tag}"}, "x": 80, "y": 120},
        {"id": "wait", "type": "delay", "kind": "wait",
         "config": {"seconds": wait_days * 86400}, "x": 360, "y": 120},
        {"id": last, "type": "action", "kind": "send_email",
         "config": {"message": f"{last}-{tag}"}, "x": 640, "y": 120},
    ]  # fmt: skip
    edges = [{"from": "joined", "to": "wait"}, {"from": "wait", "to": last}]
    return {"schema": 1, "nodes": nodes, "edges": edges, "settings": {"reentry": "once"}}


def two_versions(server: LiveServer, tag: str) -> tuple[int, dict[str, Any]]:
    """Version 1 (wait 3 days, then “Reminder”) and version 2, live and the draft (wait 1 day,
    then “Tips”), both published by the browser's user."""
    engine = create_db_engine(server.settings.database_url)
    now = utcnow()
    v1, v2 = welcome(tag, 3, "reminder"), welcome(tag, 1, "tips")
    with session_scope(engine) as session:
        session.add(ContactList(key=f"news-{tag}", name=f"Newsletter {tag}"))
        for key in ("reminder", "tips"):
            session.add(MessageTemplate(key=f"{key}-{tag}", name=key.title(), subject=key))
        elise = session.exec(select(User).where(User.email == server.email)).one()
        scenario = scenario_service.create_scenario(
            session, name=f"Welcome {tag}", graph=v1, now=now
        )
        scenario_id = scenario.id or 0
        for graph in (v1, v2):
            revision = scenario_service.get_scenario(session, scenario_id).draft_revision
            scenario_service.save_draft(session, scenario_id, graph, revision=revision, now=now)
            scenario_service.activate(session, scenario_id, now=now, user_id=elise.id)
    engine.dispose()
    return scenario_id, v1


def stored(server: LiveServer, scenario_id: int) -> tuple[dict[str, Any], int | None]:
    engine = create_db_engine(server.settings.database_url)
    with session_scope(engine) as session:
        scenario = session.get(Scenario, scenario_id)
        assert scenario is not None
        draft, live = scenario.draft, scenario.live_version
    engine.dispose()
    return draft, live


def test_open_version_1_from_the_history_read_only_then_restore_it(
    page: Page, live_server: LiveServer, console_errors: list[str]
) -> None:
    tag = uuid.uuid4().hex[:6]
    scenario_id, v1 = two_versions(live_server, tag)
    saves: list[str] = []
    page.on("request", lambda r: saves.append(r.url) if r.method == "PUT" else None)
    page.set_viewport_size({"width": 1280, "height": 800})
    open_editor(page, live_server, scenario_id, console_errors)

    page.get_by_test_id("history-link").click()
    expect(page.get_by_test_id("version-2-summary")).to_have_text(
        "“Send email 'Tips'” added, “Send email 'Reminder'” removed, “Wait 3 days” changed"
    )
    expect(page.get_by_test_id("version-1-published")).to_contain_text("by Elise")
    expect(page.get_by_test_id("version-2").get_by_test_id("live-badge")).to_have_text("Live")
    screenshot(page, "versions-10-history-1280")
    page.set_viewport_size({"width": 390, "height": 844})
    expect(page.get_by_test_id("open-version-1")).to_be_visible()
    screenshot(page, "versions-11-history-390")
    page.set_viewport_size({"width": 1280, "height": 800})

    page.get_by_test_id("open-version-1").click()
    page.wait_for_selector("#editor[data-ready=true]")
    expect(page.get_by_test_id("version-banner-message")).to_contain_text(
        "You are looking at version 1 (published"
    )
    expect(page.get_by_test_id("version-banner-message")).to_contain_text(
        "by Elise). It cannot be changed."
    )
    expect(page.get_by_test_id("node-reminder")).to_be_visible()
    expect(page.get_by_test_id("node-tips")).to_have_count(0)
    for hidden in ("activate", "save", "undo", "simulate"):
        expect(page.get_by_test_id(hidden)).to_be_hidden()
    expect(page.locator(".palette")).to_be_hidden()
    # Drag a block and press Delete: it stays where it was, and nothing is sent to be saved.
    before = page.get_by_test_id("node-wait").bounding_box()
    start = center(page, "node-wait")
    drag(page, start, (start[0] + 160, start[1] + 120))
    assert page.get_by_test_id("node-wait").bounding_box() == before
    page.keyboard.press("Delete")
    expect(page.get_by_test_id("node-wait")).to_be_visible()
    # Its settings are shown, read only.
    expect(page.get_by_test_id("panel-readonly")).to_be_visible()
    expect(page.locator(".panel-fields input:not([type=hidden])").first).to_be_disabled()
    expect(page.get_by_test_id("panel-apply")).to_have_count(0)
    screenshot(page, "versions-12-read-only-1280")
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()  # as a phone opens it: fitted to the screen
    page.wait_for_selector("#editor[data-ready=true]")
    expect(page.get_by_test_id("restore-version")).to_be_visible()
    screenshot(page, "versions-13-read-only-390")
    page.set_viewport_size({"width": 1280, "height": 800})
    assert saves == []

    page.get_by_test_id("restore-version").click()
    page.wait_for_url(f"{live_server.url}/scenarios/{scenario_id}")
    page.wait_for_selector("#editor[data-ready=true]")
    expect(page.locator("#toast")).to_have_text(
        "Version 1 is now your draft. Publish it to make it live."
    )
    expect(page.get_by_test_id("node-reminder")).to_be_visible()
    expect(page.get_by_test_id("version-banner")).to_have_count(0)
    screenshot(page, "versions-14-restored-1280")
    draft, live = stored(live_server, scenario_id)
    assert draft == v1
    assert live == 2
