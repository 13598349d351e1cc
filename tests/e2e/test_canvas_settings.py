"""The scenario settings panel in a real Chromium: re-entry and goal, autosaved with the draft."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e import test_canvas_designer
from tests.e2e.test_canvas_designer import api_graph, ensure_refs, make_scenario, open_editor
from tests.e2e.test_canvas_editing import BUY_THEN_MAIL
from tests.fixtures.browser import LiveServer, screenshot

pytestmark = pytest.mark.e2e
console_errors = test_canvas_designer.console_errors  # the same fixture: no console errors


def test_set_every_time_and_a_purchase_goal_then_find_them_saved_after_a_reload(
    page, live_server: LiveServer, console_errors: list[str]
) -> None:  # type: ignore[no-untyped-def]
    ensure_refs(live_server)
    scenario_id = make_scenario(live_server, "Abandoned cart", BUY_THEN_MAIL)
    open_editor(page, live_server, scenario_id, console_errors)

    page.get_by_test_id("scenario-settings").click()
    panel = page.get_by_test_id("settings-panel")
    panel.get_by_label("Every time it is triggered").check()
    panel.get_by_label("They do an event").check()
    panel.get_by_label("The event").fill("purchase")
    panel.get_by_label("The event").press("Tab")
    panel.locator(".panel-ok").wait_for()
    expect(page.get_by_test_id("save-status")).to_have_attribute("data-state", "saved")
    screenshot(page, "canvas-30-scenario-settings")

    page.reload()
    page.wait_for_selector("#editor[data-ready=true]")
    page.get_by_test_id("scenario-settings").click()
    panel = page.get_by_test_id("settings-panel")
    assert panel.get_by_label("Every time it is triggered").is_checked()
    assert panel.get_by_label("The event").input_value() == "purchase"

    settings = api_graph(live_server, scenario_id)["settings"]
    assert settings == {"reentry": "always", "exit_when": {"event": "purchase"}}
