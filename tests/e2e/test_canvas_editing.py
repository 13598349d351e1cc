"""Editing on the canvas in a real Chromium: insert on a link, undo/redo, refused links, a
stale save from another tab, activation refused then accepted, and the no-drag paths."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e import test_canvas_designer
from tests.e2e.test_canvas_designer import (
    api_graph,
    canvas_point,
    center,
    drag,
    drop_block,
    ensure_refs,
    forget_expected,
    make_scenario,
    open_editor,
    save_now,
    saved_status,
)
from tests.fixtures.browser import LiveServer, screenshot

pytestmark = pytest.mark.e2e
console_errors = test_canvas_designer.console_errors  # the same fixture: no console errors


def node(node_id: str, block_type: str, kind: str, x: int, y: int, **config: Any) -> dict[str, Any]:
    return {"id": node_id, "type": block_type, "kind": kind, "config": config, "x": x, "y": y}


BUY_THEN_MAIL: dict[str, Any] = {
    "schema": 1,
    "nodes": [
        node("buy", "trigger", "event", 60, 160, event="purchase"),
        node("mail", "action", "send_email", 620, 160, message="coupon-20"),
    ],
    "edges": [{"from": "buy", "to": "mail"}],
    "settings": {},
}


def edges_of(graph: dict[str, Any]) -> set[tuple[str, str, str]]:
    return {(e["from"], e.get("port", "out"), e["to"]) for e in graph["edges"]}


def wait_summary(page, node_id: str, text: str) -> None:  # type: ignore[no-untyped-def]
    expect(page.locator(f"[data-testid=node-{node_id}] .node-summary")).to_have_text(text)


def test_drop_a_wait_onto_a_link_to_insert_it_then_undo_and_redo(
    page, live_server: LiveServer, console_errors: list[str]
) -> None:  # type: ignore[no-untyped-def]
    ensure_refs(live_server)
    scenario_id = make_scenario(live_server, "Insert a wait", BUY_THEN_MAIL)
    open_editor(page, live_server, scenario_id, console_errors)
    page.keyboard.press("0")  # 100%, so the link's middle is easy to aim at
    a, b = center(page, "port-buy-out"), center(page, "port-mail-in")
    middle = ((a[0] + b[0]) / 2, (a[1] + b[1]) / 2)

    drop_block(page, "palette-delay-wait", middle)

    assert page.get_by_test_id("edge-buy-out-wait_1").count() == 1
    assert page.get_by_test_id("edge-wait_1-out-mail").count() == 1
    assert page.get_by_test_id("edge-buy-out-mail").count() == 0
    screenshot(page, "canvas-10-inserted-on-link")

    panel = page.get_by_test_id("panel")
    panel.get_by_label("How long: how many").fill("2")
    panel.get_by_label("How long: unit").select_option("days")
    wait_summary(page, "wait_1", "Wait 2 days")
    screenshot(page, "canvas-11-wait-set")

    page.get_by_test_id("undo").click()
    wait_summary(page, "wait_1", "Wait (no duration set)")
    page.get_by_test_id("canvas").click(position={"x": 30, "y": 600})  # out of the panel
    page.keyboard.press("Control+z")
    assert page.get_by_test_id("node-wait_1").count() == 0
    assert page.get_by_test_id("edge-buy-out-mail").count() == 1
    screenshot(page, "canvas-12-undone")

    page.keyboard.press("Control+Shift+z")
    page.get_by_test_id("redo").click()
    wait_summary(page, "wait_1", "Wait 2 days")
    save_now(page)

    graph = api_graph(live_server, scenario_id)
    assert edges_of(graph) == {("buy", "out", "wait_1"), ("wait_1", "out", "mail")}
    wait = next(n for n in graph["nodes"] if n["id"] == "wait_1")
    assert wait["config"] == {"seconds": 172800}


def test_invalid_links_are_refused_while_dragging_with_the_reason(
    page, live_server: LiveServer, console_errors: list[str]
) -> None:  # type: ignore[no-untyped-def]
    graph = {
        "schema": 1,
        "nodes": [
            node("buy", "trigger", "event", 60, 160, event="purchase"),
            node("wait", "delay", "wait", 360, 160, seconds=3600),
            node("mail", "action", "send_email", 660, 160),
        ],
        "edges": [{"from": "buy", "to": "wait"}, {"from": "wait", "to": "mail"}],
        "settings": {},
    }
    scenario_id = make_scenario(live_server, "Refused links", graph)
    open_editor(page, live_server, scenario_id, console_errors)
    tip = page.get_by_test_id("wire-tip")

    drag(page, center(page, "port-mail-out"), center(page, "node-buy"), release=False)
    assert "nothing can lead into it" in tip.inner_text()
    assert "drop-refused" in (page.get_by_test_id("node-buy").get_attribute("class") or "")
    screenshot(page, "canvas-13-refused-into-trigger")
    page.mouse.up()

    drag(page, center(page, "port-mail-out"), center(page, "node-wait"), release=False)
    assert "loop" in tip.inner_text()
    page.mouse.up()

    drag(page, center(page, "port-buy-out"), center(page, "node-mail"), release=False)
    assert "already leads to a block" in tip.inner_text()
    screenshot(page, "canvas-14-refused-second-link")
    page.mouse.up()

    drag(page, center(page, "port-mail-out"), center(page, "node-mail"), release=False)
    assert "can't lead to itself" in tip.inner_text()
    page.mouse.up()

    assert page.locator("g.link").count() == 2
    save_now(page)
    assert edges_of(api_graph(live_server, scenario_id)) == {
        ("buy", "out", "wait"),
        ("wait", "out", "mail"),
    }


def test_a_save_from_a_stale_tab_shows_reload_and_overwrites_nothing(
    page, live_server: LiveServer, console_errors: list[str]
) -> None:  # type: ignore[no-untyped-def]
    ensure_refs(live_server)
    scenario_id = make_scenario(live_server, "Two tabs", BUY_THEN_MAIL)
    open_editor(page, live_server, scenario_id, console_errors)
    other = page.context.new_page()
    other.goto(f"{live_server.url}/scenarios/{scenario_id}")
    other.wait_for_selector("#editor[data-ready=true]")

    drop_block(page, "palette-action-exit", canvas_point(page, 300, 420))
    save_now(page)
    drop_block(other, "palette-delay-wait", canvas_point(other, 300, 420))
    other.get_by_test_id("save").click()

    conflict = other.get_by_test_id("conflict")
    conflict.wait_for()
    assert "changed elsewhere — reload" in conflict.inner_text()
    screenshot(other, "canvas-15-conflict")
    kinds = {n["kind"] for n in api_graph(live_server, scenario_id)["nodes"]}
    assert kinds == {"event", "send_email", "exit"}, "the stale tab overwrote nothing"

    other.get_by_role("button", name="Reload").click()
    other.wait_for_selector("#editor[data-ready=true]")
    assert other.get_by_test_id("node-exit_1").count() == 1
    other.close()


def test_activation_is_refused_with_the_issues_on_the_blocks_then_accepted_once_fixed(
    page, live_server: LiveServer, console_errors: list[str]
) -> None:  # type: ignore[no-untyped-def]
    ensure_refs(live_server)
    graph = {
        "schema": 1,
        "nodes": [
            node("buy", "trigger", "event", 60, 160, event="purchase"),
            node("mail", "action", "send_email", 380, 160),
        ],
        "edges": [{"from": "buy", "to": "mail"}],
        "settings": {},
    }
    scenario_id = make_scenario(live_server, "Activate me", graph)
    open_editor(page, live_server, scenario_id, console_errors)

    page.get_by_test_id("activate").click()
    issues = page.get_by_test_id("issues")
    issues.get_by_text("Choose the email to send").wait_for()
    assert page.get_by_test_id("node-mail").locator(".node-badge").is_visible()
    assert saved_status(live_server, scenario_id) == "draft"
    forget_expected(console_errors, 422)
    screenshot(page, "canvas-16-activation-refused")

    issues.get_by_role("button").first.click()
    panel = page.get_by_test_id("panel")
    panel.get_by_label("The email to send").select_option("coupon-20")
    wait_summary(page, "mail", "Send email 'Coupon 20%'")
    page.get_by_test_id("activate").click()

    page.get_by_test_id("status").get_by_text("Active · v1").wait_for()
    assert page.get_by_test_id("pause").is_visible()
    assert not page.get_by_test_id("node-mail").locator(".node-badge").is_visible()
    assert saved_status(live_server, scenario_id) == "active"
    screenshot(page, "canvas-17-activated")

    page.get_by_test_id("pause").click()
    page.get_by_test_id("status").get_by_text("Paused · v1").wait_for()
    assert saved_status(live_server, scenario_id) == "paused"


def test_blocks_can_be_added_linked_and_removed_without_dragging(
    page, live_server: LiveServer, console_errors: list[str]
) -> None:  # type: ignore[no-untyped-def]
    scenario_id = make_scenario(live_server, "No drag")
    open_editor(page, live_server, scenario_id, console_errors)

    page.get_by_test_id("palette-trigger-event-purchase").focus()
    page.keyboard.press("Enter")  # added, and selected
    page.get_by_test_id("port-event_1-out").locator(".port-add").click()
    page.get_by_test_id("menu-condition-if").click()
    assert page.get_by_test_id("edge-event_1-out-if_1").count() == 1
    page.get_by_test_id("port-if_1-no").locator(".port-add").click()
    page.get_by_test_id("menu-action-exit").click()
    assert page.get_by_test_id("edge-if_1-no-exit_1").count() == 1
    screenshot(page, "canvas-18-added-with-plus")

    page.get_by_test_id("node-exit_1").focus()
    page.keyboard.press("Control+d")
    assert page.get_by_test_id("node-exit_2").count() == 1
    page.keyboard.press("Delete")
    assert page.get_by_test_id("node-exit_2").count() == 0

    page.get_by_test_id("node-if_1").locator(".node-menu-button").click()
    page.get_by_role("menuitem", name="Link Yes to…").click()
    page.get_by_role("menuitem", name="End the journey").click()
    assert page.get_by_test_id("edge-if_1-yes-exit_1").count() == 1

    page.get_by_test_id("tidy").click()
    page.get_by_test_id("fit").click()
    save_now(page)
    screenshot(page, "canvas-19-tidied")
    assert edges_of(api_graph(live_server, scenario_id)) == {
        ("event_1", "out", "if_1"),
        ("if_1", "no", "exit_1"),
        ("if_1", "yes", "exit_1"),
    }


def test_zoom_pan_select_several_and_shortcuts_that_leave_typing_alone(
    page, live_server: LiveServer, console_errors: list[str]
) -> None:  # type: ignore[no-untyped-def]
    ensure_refs(live_server)
    page.set_viewport_size({"width": 1920, "height": 1080})
    scenario_id = make_scenario(live_server, "Big screen", BUY_THEN_MAIL)
    open_editor(page, live_server, scenario_id, console_errors)
    zoom = page.get_by_test_id("zoom-level")
    screenshot(page, "canvas-20-1920")

    page.mouse.move(*canvas_point(page, 700, 600))
    page.mouse.wheel(0, 300)
    assert zoom.inner_text() != "100%"
    page.keyboard.press("0")
    assert zoom.inner_text() == "100%"
    before = page.get_by_test_id("node-buy").bounding_box()
    drag(page, canvas_point(page, 700, 700), canvas_point(page, 760, 650))
    after = page.get_by_test_id("node-buy").bounding_box()
    assert (round(after["x"] - before["x"]), round(after["y"] - before["y"])) == (60, -50)

    page.get_by_test_id("node-buy").click()
    page.get_by_test_id("node-mail").click(modifiers=["Shift"])
    assert page.locator(".node.selected").count() == 2
    drag(
        page,
        center(page, "node-mail"),
        (center(page, "node-mail")[0], center(page, "node-mail")[1] + 100),
    )
    save_now(page)
    moved = {n["id"]: n["y"] for n in api_graph(live_server, scenario_id)["nodes"]}
    assert moved == {"buy": 260, "mail": 260}, "both selected blocks moved together"

    page.get_by_test_id("node-mail").click()
    field = page.get_by_test_id("panel").get_by_label("The email to send")
    field.focus()
    page.keyboard.press("Delete")
    page.keyboard.press("Backspace")
    assert page.get_by_test_id("node-mail").count() == 1, "keys typed in a field stay there"
