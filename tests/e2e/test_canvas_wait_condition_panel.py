"""The "Wait for a condition" panel in a real Chromium: a test built with the condition
builder and a time limit in days make the card read what it waits for, its two outputs are
named, and the saved block is the contract's settings."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e import test_canvas_designer
from tests.e2e.test_canvas_designer import api_graph, ensure_refs, make_scenario, open_editor
from tests.e2e.test_canvas_editing import wait_summary
from tests.fixtures.browser import LiveServer, screenshot

pytestmark = pytest.mark.e2e
console_errors = test_canvas_designer.console_errors  # the same fixture: no console errors

TRIAL: dict[str, Any] = {
    "schema": 1,
    "nodes": [
        {"id": "trial", "type": "trigger", "kind": "event", "config": {"event": "trial_started"},
         "x": 60, "y": 160},
        {"id": "paid", "type": "delay", "kind": "wait_for_condition", "config": {},
         "x": 340, "y": 160},
        {"id": "thanks", "type": "action", "kind": "send_email", "config": {"message": "coupon-20"},
         "x": 660, "y": 60},
    ],
    "edges": [{"from": "trial", "to": "paid"}, {"from": "paid", "port": "yes", "to": "thanks"}],
    "settings": {},
}  # fmt: skip


def test_wait_until_a_trial_is_paid_at_most_two_weeks(
    page, live_server: LiveServer, console_errors: list[str]
) -> None:  # type: ignore[no-untyped-def]
    ensure_refs(live_server)
    scenario_id = make_scenario(live_server, "Trial to paid", TRIAL)
    open_editor(page, live_server, scenario_id, console_errors)
    expect(page.get_by_test_id("port-paid-yes")).to_contain_text("It became true")
    expect(page.get_by_test_id("port-paid-no")).to_contain_text("Timed out")
    page.get_by_test_id("node-paid").click()
    panel = page.get_by_test_id("panel")

    panel.get_by_role("button", name="Test", exact=True).click()
    panel.get_by_label("Detail").fill("plan")
    panel.get_by_label("Value").fill("paid")
    panel.get_by_label("Give up after: how many").fill("2")
    panel.get_by_label("Give up after: unit").select_option("weeks")
    wait_summary(page, "paid", "Wait until plan = 'paid', at most 2 weeks")
    screenshot(page, "canvas-42-wait-for-condition")
    page.get_by_test_id("save").click()
    expect(page.get_by_test_id("save-status")).to_have_attribute("data-state", "saved")

    wait = next(n for n in api_graph(live_server, scenario_id)["nodes"] if n["id"] == "paid")
    assert wait["config"] == {
        "if": {"attribute": "plan", "op": "eq", "value": "paid"},
        "timeout_seconds": 14 * 86_400,
    }
