"""Publishing a change to a live scenario from the canvas, in a real Chromium (issue 16): three
contacts wait in “Wait 3 days”; the marketer deletes that block, clicks “Publish changes”,
sees who is inside and what each choice would do and chooses to move them on to the reminder.
A colleague publishing first gets the plan refused in words; after another change the move
goes through: the journeys continue on the new version (step log ``migrated``), the toast
says so.

Screenshots: test-artifacts/screenshots/publish-changes-*.png.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect
from redis import Redis
from sqlmodel import col, select

from app.db import create_db_engine, session_scope
from app.models import Enrollment, MessageTemplate, ScenarioVersion, StepLog
from app.services.account.api_keys import create_api_key
from tests.e2e.test_canvas_designer import open_editor, save_now, wire
from tests.fixtures.browser import (
    SCREENSHOTS,
    LiveServer,
    run_worker_once,
    screenshot,
    started_server,
)

pytestmark = pytest.mark.e2e

DAY = 86_400


@pytest.fixture(scope="module")
def server(redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server of this module's own: its counters and queue start empty."""
    with Redis.from_url(redis_url) as redis:
        redis.flushdb()
    folder: Path = tmp_path_factory.mktemp("publish")
    with started_server(folder, redis_url) as live:
        yield live


def shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    """The viewport as the marketer sees it: a whole-page picture puts a modal at the top."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def live_graph(message: str) -> dict[str, Any]:
    return {
        "schema": 1,
        "nodes": [
            {"id": "start", "type": "trigger", "kind": "event", "config": {"event": "signup"},
             "x": 60, "y": 140},
            {"id": "wait3", "type": "delay", "kind": "wait", "config": {"seconds": 3 * DAY},
             "x": 330, "y": 140},
            {"id": "reminder", "type": "action", "kind": "send_email",
             "config": {"message": message}, "x": 600, "y": 140},
            {"id": "score", "type": "action", "kind": "add_score", "config": {"points": 5},
             "x": 600, "y": 330},
        ],
        "edges": [
            {"from": "start", "to": "wait3"},
            {"from": "wait3", "to": "reminder"},
            {"from": "reminder", "to": "score"},
        ],
        "settings": {"reentry": "once", "exit_when": None},
    }  # fmt: skip


def scene(server: LiveServer, tag: str) -> tuple[int, httpx.Client]:
    engine = create_db_engine(server.settings.database_url)
    with session_scope(engine) as session:
        session.add(MessageTemplate(key=f"reminder-{tag}", name="Reminder", subject="Still there?",
                                    text="Come back"))  # fmt: skip
        _, key = create_api_key(session, name=f"shop-{tag}")
    engine.dispose()
    api = httpx.Client(
        base_url=server.url + "/api/v1", headers={"Authorization": f"Bearer {key}"}, timeout=20
    )
    created = api.post(
        "/scenarios", json={"name": f"Welcome {tag}", "graph": live_graph(f"reminder-{tag}")}
    )
    assert created.status_code == 201, created.text
    return int(created.json()["id"]), api


def journeys(server: LiveServer, scenario_id: int) -> list[tuple[int, str, list[str]]]:
    """Each journey as (version number, block, its step outcomes in order)."""
    engine = create_db_engine(server.settings.database_url)
    with session_scope(engine) as session:
        numbers = {
            v.id: v.number
            for v in session.exec(
                select(ScenarioVersion).where(ScenarioVersion.scenario_id == scenario_id)
            )
        }
        found = []
        for journey in session.exec(
            select(Enrollment)
            .where(Enrollment.scenario_id == scenario_id)
            .order_by(col(Enrollment.id))
        ):
            steps = session.exec(
                select(StepLog.outcome)
                .where(StepLog.enrollment_id == journey.id)
                .order_by(col(StepLog.seq), col(StepLog.id))
            ).all()
            found.append((numbers[journey.version_id], journey.node_id, [str(s) for s in steps]))
    engine.dispose()
    return found


def test_publishing_a_change_moves_the_contacts_waiting_in_a_deleted_block(
    page, server: LiveServer
) -> None:  # type: ignore[no-untyped-def]
    errors: list[str] = []
    tag = uuid.uuid4().hex[:6]
    scenario_id, api = scene(server, tag)
    open_editor(page, server, scenario_id, errors)

    # A first activation keeps today's flow: no plan to show, straight to live.
    page.get_by_test_id("activate").click()
    expect(page.locator("#toast")).to_contain_text("Live: version 1")
    expect(page.get_by_test_id("publish-dialog")).to_have_count(0)
    expect(page.locator(".activate-text")).to_have_text("Publish changes")
    for i in range(3):
        sent = api.post(
            "/events", json={"name": "signup", "contact": {"email": f"{tag}{i}@x.test"}}
        )
        assert sent.status_code == 202, sent.text
    run_worker_once(server)
    assert [(v, node) for v, node, _ in journeys(server, scenario_id)] == [(1, "wait3")] * 3

    # The draft loses the wait: the signup leads straight to the reminder.
    page.get_by_test_id("node-wait3").click()
    page.keyboard.press("Delete")
    expect(page.get_by_test_id("node-wait3")).to_have_count(0)
    wire(page, "port-start-out", "node-reminder")
    save_now(page)

    page.get_by_test_id("activate").click()
    dialog = page.get_by_test_id("publish-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.locator("#publish-title")).to_have_text("Publish version 2")
    expect(dialog.get_by_test_id("legend-removed")).to_contain_text("Wait 3 days")
    expect(page.get_by_test_id("diff-start")).to_have_text("Changed")  # marked on the canvas
    expect(page.get_by_test_id("node-start")).to_have_class("node node-trigger diff-changed")
    expect(dialog.get_by_test_id("held-count-wait3")).to_have_text("3")
    expect(dialog.get_by_test_id("stay-wait3")).to_be_checked()  # the default
    effect = dialog.get_by_test_id("effect-wait3")
    expect(effect).to_have_text(
        "3 contacts waiting in “Wait 3 days” stay on version 1 and finish the journey as planned."
    )

    dialog.get_by_test_id("move-to-wait3").select_option("reminder")
    expect(dialog.get_by_test_id("move-wait3")).to_be_checked()  # picking a block picks "move"
    expect(effect).to_have_text(
        "3 contacts waiting in “Wait 3 days” will move to “Send email 'Reminder'” and receive "
        "“Reminder” right away."
    )
    expect(dialog.get_by_test_id("publish-timers")).to_have_count(0)  # not onto a wait
    page.set_viewport_size({"width": 1280, "height": 800})
    shot(page, "publish-changes-10-plan-1280")
    page.set_viewport_size({"width": 390, "height": 844})
    expect(dialog.get_by_test_id("publish-confirm")).to_be_in_viewport()
    shot(page, "publish-changes-11-plan-390")
    page.set_viewport_size({"width": 1280, "height": 800})

    # A colleague publishes the same draft meanwhile: this plan was made against version 1.
    assert api.post(f"/scenarios/{scenario_id}/activate").json()["version"] == 2
    api.close()
    dialog.get_by_test_id("publish-confirm").click()
    expect(dialog.get_by_test_id("publish-error")).to_have_text(
        "Version 2 was published since your plan was made against version 1: look at the plan "
        "again. Nothing was changed."
    )
    expect(dialog.get_by_test_id("publish-confirm")).to_be_hidden()
    shot(page, "publish-changes-12-refused-1280")
    with page.expect_navigation():  # the draft is what is live now: the canvas shows it so
        dialog.get_by_test_id("publish-again").click()
    page.wait_for_selector("#editor[data-ready=true]")
    expect(page.locator("#status-badge")).to_contain_text("Active · v2")
    assert [(v, node) for v, node, _ in journeys(server, scenario_id)] == [(1, "wait3")] * 3

    # Another change, and this time the contacts still on version 1 move on.
    page.get_by_test_id("node-score").click()
    page.keyboard.press("Delete")
    save_now(page)
    page.get_by_test_id("activate").click()
    expect(dialog.locator("#publish-title")).to_have_text("Publish version 3")
    expect(dialog.get_by_test_id("held-count-wait3")).to_have_text("3")
    dialog.get_by_test_id("move-wait3").check()
    expect(effect).to_have_text(
        "3 contacts waiting in “Wait 3 days” will move to “Send email 'Reminder'” and receive "
        "“Reminder” right away."
    )
    dialog.get_by_test_id("publish-confirm").click()
    expect(dialog).to_have_count(0)
    expect(page.locator("#toast")).to_have_text(
        "Version 3 is live. 3 contacts moved to “Send email 'Reminder'”."
    )
    expect(page.locator("#status-badge")).to_contain_text("Active · v3")
    expect(page.locator(".diff-tag")).to_have_count(0)  # the marks go with the plan
    screenshot(page, "publish-changes-13-published-1280")

    moved = journeys(server, scenario_id)
    assert [(v, node) for v, node, _ in moved] == [(3, "reminder")] * 3
    assert all(steps[-1] == "migrated" for _, _, steps in moved)
    run_worker_once(server)  # due at the reminder: its step runs, after the move
    after = journeys(server, scenario_id)
    assert [(v, node) for v, node, _ in after] == [(3, "reminder")] * 3
    assert all(steps[-2] == "migrated" for _, _, steps in after)
    # The browser logs the refused publish's answer itself; nothing else may be logged.
    assert [e for e in errors if "409 (Conflict)" not in e] == []
