"""Chromium: the linter's warnings show on the canvas as warnings (amber, counted as tips, on
their blocks), never as errors, and the scenario goes live with them."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e import test_canvas_designer
from tests.e2e.test_canvas_designer import ensure_refs, make_scenario, open_editor, saved_status
from tests.fixtures.browser import LiveServer, screenshot

pytestmark = pytest.mark.e2e
console_errors = test_canvas_designer.console_errors  # the same fixture: no console errors


def node(node_id: str, block_type: str, kind: str, x: int, y: int, **config: Any) -> dict[str, Any]:
    return {"id": node_id, "type": block_type, "kind": kind, "config": config, "x": x, "y": y}


def test_the_linter_warnings_are_tips_on_their_blocks_and_do_not_stop_activation(
    page, live_server: LiveServer, console_errors: list[str]
) -> None:  # type: ignore[no-untyped-def]
    ensure_refs(live_server)
    graph = {
        "schema": 1,
        "nodes": [
            node("buy", "trigger", "event", 60, 160, event="purchase"),
            node("never", "condition", "if", 340, 160, **{"if": {"any": []}}),
            node("first", "action", "send_email", 620, 60, message="coupon-20"),
            node("again", "action", "send_email", 900, 60, message="coupon-20"),
            node("done", "action", "exit", 620, 260),
        ],
        "edges": [
            {"from": "buy", "to": "never"},
            {"from": "never", "port": "yes", "to": "first"},
            {"from": "never", "port": "no", "to": "done"},
            {"from": "first", "to": "again"},
        ],
        "settings": {},
    }
    scenario_id = make_scenario(live_server, "Linted", graph)
    open_editor(page, live_server, scenario_id, console_errors)

    button = page.get_by_test_id("issues-button")
    assert button.get_attribute("data-state") == "warning"
    assert button.locator(".issues-count").text_content() == "2 tips"
    assert "has-warning" in (page.get_by_test_id("node-never").get_attribute("class") or "")
    assert "has-warning" in (page.get_by_test_id("node-again").get_attribute("class") or "")
    button.click()
    issues = page.get_by_test_id("issues")
    never = issues.locator(".issue", has_text="This condition is never true")
    twice = issues.locator(".issue", has_text="It is sent right after 'Coupon 20%'")
    assert "warning" in (never.get_attribute("class") or "").split()
    assert "warning" in (twice.get_attribute("class") or "").split()
    assert issues.locator(".issue.error").count() == 0
    screenshot(page, "canvas-lint-warnings")

    page.get_by_test_id("activate").click()
    page.get_by_test_id("status").get_by_text("Active · v1").wait_for()
    assert saved_status(live_server, scenario_id) == "active"
