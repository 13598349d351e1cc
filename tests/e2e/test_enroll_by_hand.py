"""Enroll by hand in a real Chromium: on the canvas of an active scenario, the manual trigger's
panel counts a list before confirming, says who the re-entry rule keeps out, and enrolls.

Screenshots: test-artifacts/screenshots/enroll-*.png.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlmodel import func, select

from app.clock import utcnow
from app.db import create_db_engine, session_scope
from app.models import Contact, ContactList, Enrollment, EnrollmentState, ListMembership
from app.services.scenarios import manual_enrollment as manual
from app.services.scenarios import scenarios as scenario_service
from tests.e2e import test_canvas_designer
from tests.e2e.test_canvas_designer import open_editor
from tests.fixtures.browser import LiveServer, run_worker_once, screenshot

pytestmark = pytest.mark.e2e
console_errors = test_canvas_designer.console_errors  # the same fixture: no console errors


def by_hand(list_key: str) -> dict[str, Any]:
    return {
        "schema": 1,
        "nodes": [
            {"id": "hand", "type": "trigger", "kind": "manual", "config": {}, "x": 80, "y": 120},
            {
                "id": "thanks",
                "type": "action",
                "kind": "add_to_list",
                "config": {"list": list_key},
                "x": 80,
                "y": 320,
            },
        ],
        "edges": [{"from": "hand", "to": "thanks"}],
        "settings": {"reentry": "once"},
    }


def scene(server: LiveServer, tag: str) -> tuple[int, str]:
    """A list of 30 contacts, 3 of them already through an active scenario by hand."""
    engine = create_db_engine(server.settings.database_url)
    now = utcnow()
    with session_scope(engine) as session:
        session.add(ContactList(key=f"done-{tag}", name=f"Done {tag}"))
        newsletter = ContactList(key=f"news-{tag}", name=f"Newsletter {tag}")
        session.add(newsletter)
        people = [Contact(email=f"{tag}-{i}@example.com") for i in range(30)]
        session.add_all(people)
        session.flush()
        session.add_all(ListMembership(list_id=newsletter.id, contact_id=p.id) for p in people)  # type: ignore[arg-type]
        made = scenario_service.create_scenario(
            session, name=f"Welcome {tag}", graph=by_hand(f"done-{tag}"), now=now
        )
        assert made.id is not None
        scenario_service.activate(session, made.id, now=now)
        entry = manual.manual_entry(session, made.id)
        first = manual.Target(tuple(p.id for p in people[:3] if p.id is not None))
        manual.enroll(session, entry, manual.resolve(session, first, now), now)
        scenario_id = made.id
    engine.dispose()
    return scenario_id, f"Newsletter {tag}"


def journeys(server: LiveServer, scenario_id: int) -> dict[str, int]:
    engine = create_db_engine(server.settings.database_url)
    with session_scope(engine) as session:
        rows = session.exec(
            select(Enrollment.state, func.count())
            .where(Enrollment.scenario_id == scenario_id)
            .group_by(Enrollment.state)  # type: ignore[arg-type]
        ).all()
    engine.dispose()
    return {str(state): int(n) for state, n in rows}


def test_the_manual_trigger_panel_counts_a_list_then_enrolls_it(
    page, live_server: LiveServer, console_errors: list[str]
) -> None:  # type: ignore[no-untyped-def]
    tag = uuid.uuid4().hex[:6]
    scenario_id, list_name = scene(live_server, tag)
    open_editor(page, live_server, scenario_id, console_errors)

    page.get_by_test_id("node-hand").click()
    panel = page.get_by_test_id("panel")
    box = panel.get_by_test_id("enroll-box")
    expect(box).to_be_visible()
    expect(box.get_by_test_id("enroll-email")).to_be_hidden()  # only for "one contact"
    box.get_by_test_id("enroll-who").select_option(label=list_name)

    preview = box.get_by_test_id("enroll-preview")
    expect(preview).to_contain_text(f"Enroll 30 contacts of “{list_name}” in “Welcome {tag}”?")
    expect(preview).to_contain_text("3 have already entered it and will be skipped")
    screenshot(page, "enroll-10-canvas-count")
    box.get_by_test_id("enroll-confirm").click()

    expect(box.get_by_test_id("enroll-done")).to_contain_text(
        f"27 contacts enrolled in “Welcome {tag}”. 3 skipped by its re-entry rules."
    )
    screenshot(page, "enroll-11-canvas-enrolled")
    assert sum(journeys(live_server, scenario_id).values()) == 30

    run_worker_once(live_server)
    assert journeys(live_server, scenario_id) == {EnrollmentState.completed.value: 30}


def test_one_contact_by_email_from_the_panel(
    page, live_server: LiveServer, console_errors: list[str]
) -> None:  # type: ignore[no-untyped-def]
    tag = uuid.uuid4().hex[:6]
    scenario_id, _ = scene(live_server, tag)
    open_editor(page, live_server, scenario_id, console_errors)

    page.get_by_test_id("node-hand").click()
    box = page.get_by_test_id("panel").get_by_test_id("enroll-box")
    box.get_by_test_id("enroll-who").select_option("email")
    email = box.get_by_test_id("enroll-email")
    expect(email).to_be_visible()
    email.fill(f"{tag}-7@example.com")
    box.get_by_test_id("enroll-count").click()

    expect(box.get_by_test_id("enroll-preview")).to_contain_text(
        re.compile(rf"Enroll {tag}-7@example.com in “Welcome {tag}”\?")
    )
    box.get_by_test_id("enroll-confirm").click()
    expect(box.get_by_test_id("enroll-done")).to_contain_text("1 contact enrolled")
    assert sum(journeys(live_server, scenario_id).values()) == 4
