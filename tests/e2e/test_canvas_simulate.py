"""Simulate from the canvas, in a real Chromium (issue 15 point 3): the marketer opens the
Simulate box, keeps "replay 30 days, look 30 days ahead", watches the progress while the worker
runs it, and then reads dashed ghost counters on the blocks and the answer under the form; a
sample contact of a block opens their simulated journey, marked so. A run can be stopped while
it waits for the worker.

Screenshot: test-artifacts/screenshots/canvas-simulate-*.png.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import insert

from app.clock import utcnow
from app.db import create_db_engine, session_scope
from app.models import Contact, ContactList, Event, ListMembership, MessagePurpose, MessageTemplate
from app.services.scenarios import scenarios as scenario_service
from tests.e2e import test_canvas_designer
from tests.e2e.test_canvas_designer import open_editor
from tests.fixtures.browser import LiveServer, run_worker_once, screenshot
from tests.worker.test_engine_journeys import graph

pytestmark = pytest.mark.e2e
console_errors = test_canvas_designer.console_errors  # the same fixture: no console errors


def scene(server: LiveServer, tag: str, joined: int) -> int:
    """A Welcome draft on “Newsletter <tag>”, which ``joined`` contacts joined yesterday."""
    engine = create_db_engine(server.settings.database_url)
    now = utcnow()
    with session_scope(engine) as session:
        session.add(MessageTemplate(key=f"hello-{tag}", name="Hello", subject="Hello",
                                    purpose=MessagePurpose.marketing))  # fmt: skip
        newsletter = ContactList(key=f"news-{tag}", name=f"Newsletter {tag}")
        session.add(newsletter)
        people = [
            Contact(email=f"{tag}-{i}@example.com", email_consent=True) for i in range(joined)
        ]
        session.add_all(people)
        session.flush()
        at = now - timedelta(days=1)
        session.execute(
            insert(ListMembership),
            [{"list_id": newsletter.id, "contact_id": p.id, "added_at": at} for p in people],
        )
        session.execute(
            insert(Event),
            [{"uid": uuid.uuid4().hex, "contact_id": p.id, "name": "list_added",
              "properties": {"list": f"news-{tag}"}, "occurred_at": at, "received_at": at,
              "processed_at": at} for p in people],
        )  # fmt: skip
        draft = graph(
            [
                {"id": "joined", "type": "trigger", "kind": "list_added",
                 "config": {"list": f"news-{tag}"}, "x": 80, "y": 120},
                {"id": "hello", "type": "action", "kind": "send_email",
                 "config": {"message": f"hello-{tag}"}, "x": 80, "y": 320},
            ],
            [("joined", "hello")],
        )  # fmt: skip
        made = scenario_service.create_scenario(
            session, name=f"Welcome {tag}", graph=draft, now=now
        )
        scenario_id = made.id
    engine.dispose()
    assert scenario_id is not None
    return scenario_id


def test_simulate_shows_progress_then_ghost_counters_on_the_blocks(
    page: Page, live_server: LiveServer, console_errors: list[str]
) -> None:
    tag = uuid.uuid4().hex[:6]
    scenario_id = scene(live_server, tag, joined=1234)
    open_editor(page, live_server, scenario_id, console_errors)

    page.get_by_test_id("simulate-button").click()
    expect(page.get_by_test_id("simulate")).to_contain_text("of your contacts’ activity, then look")
    page.get_by_test_id("simulate-start").click()
    expect(page.get_by_test_id("simulation-progress")).to_be_visible()
    screenshot(page, "canvas-simulate-10-running")

    run_worker_once(live_server)

    expect(page.get_by_test_id("simulation-done")).to_contain_text(
        "≈ 1,234 contacts would enter this scenario."
    )
    expect(page.get_by_test_id("ghost-hello")).to_have_text("≈ 1,234 would enter")
    expect(page.get_by_test_id("ghost-joined")).to_contain_text("would enter")
    screenshot(page, "canvas-simulate-11-ghosts")

    # A block's sample contacts, each opening their simulated journey in a tab of its own.
    page.get_by_test_id("samples-hello").locator("summary").click()
    first = page.get_by_test_id("samples-hello").get_by_role("link").first
    expect(first).to_have_text(f"{tag}-0@example.com")
    screenshot(page, "canvas-simulate-12-samples")
    page.set_viewport_size({"width": 390, "height": 844})
    expect(first).to_be_visible()
    screenshot(page, "canvas-simulate-12-samples-390")
    page.set_viewport_size({"width": 1280, "height": 800})
    with page.context.expect_page() as opened:
        first.click()
    journey = opened.value
    journey.wait_for_load_state()
    journey.set_viewport_size({"width": 1280, "height": 800})
    expect(journey.get_by_test_id("simulated-badge")).to_have_text("simulated")
    expect(journey.get_by_test_id("simulated-note")).to_contain_text(
        "Simulated: what would have happened if this draft had been live; nothing was sent."
    )
    expect(journey.get_by_test_id("step-hello-completed")).to_contain_text("Send an email")
    screenshot(journey, "canvas-simulate-13-journey-1280")
    journey.set_viewport_size({"width": 390, "height": 844})
    expect(journey.get_by_test_id("simulated-badge")).to_be_visible()
    screenshot(journey, "canvas-simulate-14-journey-390")
    journey.close()


def test_a_running_simulation_can_be_cancelled(
    page: Page, live_server: LiveServer, console_errors: list[str]
) -> None:
    tag = uuid.uuid4().hex[:6]
    scenario_id = scene(live_server, tag, joined=3)
    open_editor(page, live_server, scenario_id, console_errors)
    page.get_by_test_id("simulate-button").click()
    page.get_by_test_id("simulate-start").click()
    expect(page.get_by_test_id("simulation-progress")).to_be_visible()
    screenshot(page, "canvas-simulate-15-cancel")

    # No worker runs here: the simulation stays running until it is stopped.
    page.get_by_test_id("simulation-cancel").click()

    expect(page.get_by_test_id("simulation-result")).to_contain_text("The simulation was stopped.")
    expect(page.get_by_test_id("simulation-result")).to_have_attribute("data-status", "cancelled")
    expect(page.get_by_test_id("simulation-progress")).to_have_count(0)
    page.wait_for_timeout(1500)  # a poll would have swapped it back by now
    expect(page.get_by_test_id("simulation-result")).to_contain_text("The simulation was stopped.")
