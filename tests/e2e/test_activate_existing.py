"""Activating with the contacts already there, in a real Chromium (CONTRACTS-2 §C): a scenario
that starts when a contact joins a list asks, with the count, whether the list's members enter
too; "at most N per hour" shows the queue on the trigger block. In English and in French.

Screenshots: test-artifacts/screenshots/activate-existing-*.png.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import insert
from sqlmodel import func, select

from app.clock import utcnow
from app.db import create_db_engine, session_scope
from app.models import Contact, ContactList, Enrollment, EntryQueue, EntryRamp, ListMembership
from app.services.scenarios import scenarios as scenario_service
from tests.e2e import test_canvas_designer
from tests.e2e.test_canvas_designer import open_editor
from tests.e2e.test_canvas_french import french_user
from tests.fixtures.browser import LiveServer, run_worker_once, screenshot

pytestmark = pytest.mark.e2e
console_errors = test_canvas_designer.console_errors  # the same fixture: no console errors


def on_joining(list_key: str, done_key: str) -> dict[str, Any]:
    return {
        "schema": 1,
        "nodes": [
            {"id": "joined", "type": "trigger", "kind": "list_added", "config": {"list": list_key},
             "x": 80, "y": 120},
            {"id": "thanks", "type": "action", "kind": "add_to_list", "config": {"list": done_key},
             "x": 80, "y": 320},
        ],
        "edges": [{"from": "joined", "to": "thanks"}],
        "settings": {"reentry": "once"},
    }  # fmt: skip


def scene(server: LiveServer, tag: str, members: int) -> tuple[int, str]:
    """A draft that starts when a contact joins “Newsletter <tag>”, which has ``members``."""
    engine = create_db_engine(server.settings.database_url)
    now = utcnow()
    with session_scope(engine) as session:
        session.add(ContactList(key=f"done-{tag}", name=f"Done {tag}"))
        newsletter = ContactList(key=f"news-{tag}", name=f"Newsletter {tag}")
        session.add(newsletter)
        session.flush()
        ids = session.execute(
            insert(Contact).returning(Contact.id),  # type: ignore[arg-type]
            [{"email": f"{tag}-{i}@example.com", "attributes": {}, "created_at": now,
              "updated_at": now} for i in range(members)],
        ).scalars().all()  # fmt: skip
        session.execute(
            insert(ListMembership),
            [{"list_id": newsletter.id, "contact_id": i, "added_at": now} for i in ids],
        )
        made = scenario_service.create_scenario(
            session, name=f"Welcome {tag}", graph=on_joining(f"news-{tag}", f"done-{tag}"), now=now
        )
        scenario_id = made.id
    engine.dispose()
    assert scenario_id is not None
    return scenario_id, f"Newsletter {tag}"


def counts(server: LiveServer, scenario_id: int) -> tuple[int, int, int | None]:
    """(journeys, contacts waiting in the queue, the ramp's pace)."""
    engine = create_db_engine(server.settings.database_url)
    with session_scope(engine) as session:
        entered = session.exec(
            select(func.count())
            .select_from(Enrollment)
            .where(Enrollment.scenario_id == scenario_id)
        ).one()
        waiting = session.exec(
            select(func.count())
            .select_from(EntryQueue)
            .where(EntryQueue.scenario_id == scenario_id)
        ).one()
        ramp = session.get(EntryRamp, scenario_id)
        pace = ramp.per_hour if ramp else None
    engine.dispose()
    return int(entered), int(waiting), pace


def test_activating_asks_with_the_count_and_a_ramp_shows_its_queue_on_the_trigger(
    page, live_server: LiveServer, console_errors: list[str]
) -> None:  # type: ignore[no-untyped-def]
    tag = uuid.uuid4().hex[:6]
    scenario_id, list_name = scene(live_server, tag, members=1234)
    open_editor(page, live_server, scenario_id, console_errors)

    page.get_by_test_id("activate").click()
    dialog = page.get_by_test_id("existing-dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text(
        f"Also let in the 1,234 contacts already in the list “{list_name}”?"
    )
    expect(dialog.get_by_test_id("existing-all")).to_be_checked()  # the default
    expect(dialog).to_contain_text("No, only new ones")
    dialog.get_by_test_id("existing-rate").fill("100")
    expect(dialog.get_by_test_id("existing-ramp")).to_be_checked()  # typing a pace picks it
    screenshot(page, "activate-existing-10-question")
    dialog.get_by_test_id("existing-activate").click()

    expect(dialog).to_have_count(0)
    expect(page.locator("#toast")).to_contain_text("1,234 contacts already there wait to enter")
    queue = page.get_by_test_id("queue-joined")
    expect(queue).to_have_text("1,234 waiting to enter, 100 per hour")
    screenshot(page, "activate-existing-11-queue")
    assert counts(live_server, scenario_id) == (0, 1234, 100)

    # The worker lets the first hour's batch in; the queue follows the live counters.
    run_worker_once(live_server)
    expect(queue).to_have_text("1,134 waiting to enter, 100 per hour")
    assert counts(live_server, scenario_id) == (100, 1134, 100)

    page.reload()
    page.wait_for_selector("#editor[data-ready=true]")
    expect(page.get_by_test_id("queue-joined")).to_have_text("1,134 waiting to enter, 100 per hour")


def test_cancelling_the_question_activates_nothing(
    page, live_server: LiveServer, console_errors: list[str]
) -> None:  # type: ignore[no-untyped-def]
    tag = uuid.uuid4().hex[:6]
    scenario_id, _ = scene(live_server, tag, members=3)
    open_editor(page, live_server, scenario_id, console_errors)

    page.get_by_test_id("activate").click()
    dialog = page.get_by_test_id("existing-dialog")
    dialog.get_by_role("button", name="Cancel").click()

    expect(dialog).to_have_count(0)
    expect(page.locator("#status-badge")).to_contain_text("Draft")
    assert counts(live_server, scenario_id) == (0, 0, None)


def test_a_french_user_is_asked_in_french_and_all_enter_at_once(
    page, live_server: LiveServer, console_errors: list[str]
) -> None:  # type: ignore[no-untyped-def]
    tag = uuid.uuid4().hex[:6]
    scenario_id, list_name = scene(live_server, tag, members=3)
    email, password = french_user(live_server)
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: console_errors.append(str(e)))
    page.goto(live_server.url + "/login")
    page.locator("input[name=email]").fill(email)
    page.locator("input[name=password]").fill(password)
    page.locator("form button[type=submit]").click()
    page.wait_for_url(live_server.url + "/")
    page.goto(f"{live_server.url}/scenarios/{scenario_id}")
    page.wait_for_selector("#editor[data-ready=true]")

    page.get_by_test_id("activate").click()
    dialog = page.get_by_test_id("existing-dialog")
    expect(dialog).to_contain_text(
        f"Faire entrer aussi les 3 contacts déjà dans la liste « {list_name} » ?"
    )
    expect(dialog).to_contain_text("Non, seulement les nouveaux")
    expect(dialog).to_contain_text("Oui, tous d’un coup")
    expect(dialog).to_contain_text("Oui, au plus")
    expect(dialog).to_contain_text("par heure")
    screenshot(page, "activate-existing-20-question-fr")
    dialog.get_by_role("button", name="Activer").click()

    expect(page.locator("#toast")).to_contain_text("3 contacts déjà présents sont entrés aussi")
    assert counts(live_server, scenario_id) == (3, 0, None)
