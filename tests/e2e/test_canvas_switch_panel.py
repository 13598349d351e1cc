"""The switch's panel in a real Chromium: a case added with its name and condition, moved up
to be tested first, another removed with its link, and the card drawing one port per case
and Else, with their labels."""

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

PARIS = {"attribute": "city", "op": "eq", "value": "Paris"}
ROUTE: dict[str, Any] = {
    "schema": 1,
    "nodes": [
        {"id": "buy", "type": "trigger", "kind": "event", "config": {"event": "purchase"},
         "x": 60, "y": 160},
        {"id": "route", "type": "condition", "kind": "switch", "x": 340, "y": 160,
         "config": {"cases": [{"port": "c1", "label": "Paris", "if": PARIS}]}},
        {"id": "mail", "type": "action", "kind": "send_email", "config": {"message": "coupon-20"},
         "x": 660, "y": 60},
        {"id": "score", "type": "action", "kind": "add_score", "config": {"points": 1},
         "x": 660, "y": 260},
    ],
    "edges": [{"from": "buy", "to": "route"}, {"from": "route", "port": "c1", "to": "mail"},
              {"from": "route", "port": "else", "to": "score"}],
    "settings": {},
}  # fmt: skip


def test_add_a_case_move_it_first_and_remove_another_with_its_link(
    page, live_server: LiveServer, console_errors: list[str]
) -> None:  # type: ignore[no-untyped-def]
    ensure_refs(live_server)
    scenario_id = make_scenario(live_server, "Route by city", ROUTE)
    open_editor(page, live_server, scenario_id, console_errors)
    expect(page.get_by_test_id("port-route-else")).to_contain_text("Else")
    page.get_by_test_id("node-route").click()
    panel = page.get_by_test_id("panel")
    cases = panel.get_by_test_id("switch-case")
    expect(cases).to_have_count(1)

    panel.get_by_test_id("switch-add").click()
    expect(cases).to_have_count(2)
    lyon = cases.nth(1)
    lyon.get_by_test_id("switch-label").fill("Lyon")
    lyon.get_by_role("button", name="Test", exact=True).click()
    lyon.get_by_label("Detail").fill("city")
    lyon.get_by_label("Value").fill("Lyon")
    wait_summary(page, "route", "Route by: Paris · Lyon · else")
    expect(page.get_by_test_id("port-route-c2")).to_contain_text("Lyon")

    lyon.get_by_role("button", name="Test this case earlier").click()
    wait_summary(page, "route", "Route by: Lyon · Paris · else")
    expect(cases.nth(0).get_by_test_id("switch-label")).to_have_value("Lyon")
    screenshot(page, "canvas-41-switch")

    cases.nth(1).get_by_role("button", name="Remove this case").click()
    wait_summary(page, "route", "Route by: Lyon · else")
    expect(page.get_by_test_id("port-route-c1")).to_have_count(0)
    page.get_by_test_id("save").click()
    expect(page.get_by_test_id("save-status")).to_have_attribute("data-state", "saved")

    graph = api_graph(live_server, scenario_id)
    switch = next(n for n in graph["nodes"] if n["id"] == "route")
    assert switch["config"]["cases"] == [
        {"port": "c2", "label": "Lyon", "if": {"attribute": "city", "op": "eq", "value": "Lyon"}}
    ]
    assert edges_of(graph) == {("buy", "out", "route"), ("route", "else", "score")}
