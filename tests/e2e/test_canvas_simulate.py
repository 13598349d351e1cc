"""Simulate from the canvas, in a real Chromium (issue 15 point 3): the marketer opens the
Simulate box, keeps "replay 30 days, look 30 days ahead", watches the progress while the worker
runs it, and then reads dashed ghost counters on the blocks and the answer under the form.

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
