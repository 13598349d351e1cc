"""The random split's panel in a real Chromium: branches added and removed, the total kept in
view, and the card drawing one port per branch with its label."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e import test_canvas_designer
from tests.e2e.test_canvas_designer import api_graph, ensure_refs, make_scenario, open_editor
from tests.e2e.test_canvas_editing import edges_of, wait_summary
from tests.fixtures.browser import LiveServer, screenshot

pytestmark = pytest.mark.e2e
console_errors = test_canvas_designer.console_errors  # the same fixture: no console errors

AB_TEST: dict[str, Any] = {
    "schema": 1,
    "nodes": [
        {"id": "buy", "type": "trigger", "kind": "event", "config": {"event": "purchase"},
         "x": 60, "y": 160},
        {"id": "ab", "type": "condition", "kind": "random_split", "x": 340, "y": 160,
         "config": {"branches": [{"port": "a", "label": "A", "percent": 50},
                                 {"port": "b", "label": "B", "percent": 50}]}},
        {"id": "mail", "type": "action", "kind": "send_email", "config": {"message": "coupon-20"},
         "x": 660, "y": 60},
        {"id": "sms", "type": "action", "kind": "add_score", "config": {"points": 1},
         "x": 660, "y": 260},
    ],
    "edges": [{"from": "buy", "to": "ab"}, {"from": "ab", "port": "a", "to": "mail"},
              {"from": "ab", "port": "b", "to": "sms"}],
    "settings": {},
}  # fmt: skip


def test_add_a_holdout_rebalance_and_remove_a_branch_with_its_link(
    page, live_server: LiveServer, console_errors: list[str]
) -> None:  # type: ignore[no-untyped-def]
    ensure_refs(live_server)
    scenario_id = make_scenario(live_server, "Welcome A/B", AB_TEST)
    open_editor(page, live_server, scenario_id, console_errors)
    page.get_by_test_id("node-ab").click()
    panel = page.get_by_test_id("panel")
    expect(panel.get_by_test_id("split-total")).to_have_text("Total: 100 %")

    panel.get_by_test_id("split-add").click()
    rows = panel.get_by_test_id("split-row")
    expect(rows).to_have_count(3)
    expect(rows.nth(2).get_by_test_id("split-label")).to_have_value("C")
    rows.nth(2).get_by_test_id("split-label").fill("Holdout")
    rows.nth(2).get_by_test_id("split-percent").fill("20")
    expect(panel.get_by_test_id("split-total")).to_contain_text("must make 100 %")
    rows.nth(0).get_by_test_id("split-percent").fill("30")
    expect(panel.get_by_test_id("split-total")).to_have_text("Total: 100 %")
    wait_summary(page, "ab", "Split at random: A 30 % · B 50 % · Holdout 20 %")
    expect(page.get_by_test_id("port-ab-c")).to_contain_text("Holdout")
    screenshot(page, "canvas-40-random-split")

    rows.nth(1).get_by_role("button", name="Remove this branch").click()
    wait_summary(page, "ab", "Split at random: A 30 % · Holdout 20 %")
    expect(page.get_by_test_id("port-ab-b")).to_have_count(0)
    page.get_by_test_id("save").click()
    expect(page.get_by_test_id("save-status")).to_have_attribute("data-state", "saved")

    graph = api_graph(live_server, scenario_id)
    split = next(n for n in graph["nodes"] if n["id"] == "ab")
    assert [b["port"] for b in split["config"]["branches"]] == ["a", "c"]
    assert edges_of(graph) == {("buy", "out", "ab"), ("ab", "a", "mail")}, "B's link went with B"
