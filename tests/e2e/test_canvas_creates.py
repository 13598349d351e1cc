"""In a real Chromium: blocks create what they need, and the canvas opens fitted (issue 14).

A list block's panel creates a list in place; a message block's panel goes to the message
editor and back with the new message chosen; the canvas opens with all of a scenario in view;
at 1024 px the header stays inside the screen and the side columns close and reopen.
Screenshots: test-artifacts/screenshots/canvas-creates-*.png.
"""

from __future__ import annotations

import itertools
import re
import uuid
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.test_canvas_designer import api_graph, make_scenario, open_editor
from tests.fixtures.browser import LiveServer, screenshot

pytestmark = pytest.mark.e2e


def two_blocks(kind: str) -> dict[str, Any]:
    return {
        "schema": 1,
        "nodes": [
            {"id": "start", "type": "trigger", "kind": "manual", "config": {}, "x": 80, "y": 160},
            {"id": "act", "type": "action", "kind": kind, "config": {}, "x": 420, "y": 160},
        ],
        "edges": [{"from": "start", "to": "act"}],
        "settings": {},
    }


def saved_config(server: LiveServer, scenario_id: int, node_id: str) -> dict[str, Any]:
    graph = api_graph(server, scenario_id)
    node = next(n for n in graph["nodes"] if n["id"] == node_id)
    config: dict[str, Any] = node["config"]
    return config


def test_a_list_is_created_in_the_blocks_panel_and_chosen(page, live_server: LiveServer) -> None:  # type: ignore[no-untyped-def]
    errors: list[str] = []
    scenario_id = make_scenario(live_server, "New list in place", two_blocks("add_to_list"))
    open_editor(page, live_server, scenario_id, errors)
    name = f"Clients fidèles {uuid.uuid4().hex[:6]}"

    page.get_by_test_id("node-act").click()
    page.get_by_test_id("new-list").click()
    page.get_by_test_id("new-list-name").fill(name)
    page.get_by_test_id("create-list").click()

    chosen = page.locator('.panel select[name="list"] option:checked')
    expect(chosen).to_have_text(name)
    expect(page.get_by_test_id("node-act")).to_contain_text(f"Add to list '{name}'")
    expect(page.get_by_test_id("save-status")).to_contain_text("Saved", timeout=10_000)
    key = page.locator('.panel select[name="list"]').input_value()
    assert key.startswith("clients-fideles")
    assert saved_config(live_server, scenario_id, "act") == {"list": key}
    screenshot(page, "canvas-creates-list")

    # A blank name is explained in place and creates nothing.
    page.get_by_test_id("new-list").click()
    page.get_by_test_id("create-list").click()
    expect(page.locator("[data-create-error]")).to_have_text("Type the new list’s name.")
    assert errors == []


def test_a_new_email_is_written_in_the_editor_and_comes_back_chosen(
    page, live_server: LiveServer
) -> None:  # type: ignore[no-untyped-def]
    errors: list[str] = []
    scenario_id = make_scenario(live_server, "New email round trip", two_blocks("send_email"))
    open_editor(page, live_server, scenario_id, errors)
    page.on("dialog", lambda dialog: dialog.accept())
    name = f"Bienvenue {uuid.uuid4().hex[:6]}"

    page.get_by_test_id("node-act").click()
    page.get_by_test_id("create-message").click()
    page.wait_for_url(re.compile(r"/messages/new\?"))
    expect(page.get_by_test_id("back-to-scenario")).to_have_attribute(
        "href", f"/scenarios/{scenario_id}?block=act"
    )
    page.locator('input[name="name"]').fill(name)
    key_input = page.locator('input[name="key"]')
    key = f"bienvenue-{uuid.uuid4().hex[:6]}"
    key_input.fill(key)
    screenshot(page, "canvas-creates-message-editor")
    page.locator('#message-form button[type="submit"]').first.click()

    page.wait_for_url(f"{live_server.url}/scenarios/{scenario_id}")
    page.wait_for_selector("#editor[data-ready=true]")
    expect(page.locator('.panel select[name="message"]')).to_have_value(key)
    expect(page.get_by_test_id("node-act")).to_contain_text(f"Send email '{name}'")
    expect(page.get_by_test_id("save-status")).to_contain_text("Saved", timeout=10_000)
    assert saved_config(live_server, scenario_id, "act") == {"message": key}
    assert key not in page.get_by_test_id("node-act").inner_text()
    screenshot(page, "canvas-creates-message-back")
    assert errors == []


def spread(count: int, step: float) -> dict[str, Any]:
    nodes = [{"id": "start", "type": "trigger", "kind": "manual", "config": {}, "x": 0, "y": 0}]
    nodes += [
        {
            "id": f"w{i}",
            "type": "delay",
            "kind": "wait",
            "config": {"seconds": 3600},
            "x": step * i,
            "y": (i % 3) * 260,
        }
        for i in range(1, count)
    ]
    ids = [n["id"] for n in nodes]
    edges = [{"from": a, "to": b} for a, b in itertools.pairwise(ids)]
    return {"schema": 1, "nodes": nodes, "edges": edges, "settings": {}}


def cards_inside_canvas(page) -> bool:  # type: ignore[no-untyped-def]
    return bool(
        page.evaluate(
            """() => {
              const canvas = document.querySelector('.canvas').getBoundingClientRect();
              return [...document.querySelectorAll('.canvas .node')].every((n) => {
                const r = n.getBoundingClientRect();
                return r.left >= canvas.left - 1 && r.right <= canvas.right + 1
                  && r.top >= canvas.top - 1 && r.bottom <= canvas.bottom + 1;
              });
            }"""
        )
    )


def test_the_canvas_opens_with_the_whole_scenario_in_view(page, live_server: LiveServer) -> None:  # type: ignore[no-untyped-def]
    errors: list[str] = []
    wide = make_scenario(live_server, "A long journey", spread(9, 420))
    open_editor(page, live_server, wide, errors)

    assert cards_inside_canvas(page)
    zoom = int(page.get_by_test_id("zoom-level").inner_text().rstrip("%"))
    assert zoom < 100
    screenshot(page, "canvas-creates-fitted-wide")

    small = make_scenario(live_server, "A short journey", spread(2, 300))
    page.goto(f"{live_server.url}/scenarios/{small}")
    page.wait_for_selector("#editor[data-ready=true]")
    assert cards_inside_canvas(page)
    expect(page.get_by_test_id("zoom-level")).to_have_text("100%")
    assert errors == []


def test_at_1024_px_the_header_fits_and_the_side_columns_close_and_reopen(
    browser, live_server: LiveServer
) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1024, "height": 768})
    page = context.new_page()
    errors: list[str] = []
    scenario_id = make_scenario(
        live_server, "Un nom de scénario assez long pour un petit écran", spread(4, 380)
    )
    try:
        open_editor(page, live_server, scenario_id, errors)
        overflow = page.evaluate(
            """() => {
              const bar = document.querySelector('.editor-bar');
              const out = [...bar.children].filter((c) => c.offsetParent !== null)
                .filter((c) => c.getBoundingClientRect().right > window.innerWidth + 1);
              return { scroll: bar.scrollWidth - bar.clientWidth, out: out.map((c) => c.className),
                       page: document.documentElement.scrollWidth - window.innerWidth };
            }"""
        )
        assert overflow == {"scroll": 0, "out": [], "page": 0}
        expect(page.get_by_test_id("activate")).to_be_in_viewport()
        screenshot(page, "canvas-creates-1024")

        canvas = page.get_by_test_id("canvas")
        width = canvas.bounding_box()["width"]
        page.get_by_test_id("toggle-panel").click()
        expect(page.get_by_test_id("panel")).to_be_hidden()
        page.get_by_test_id("toggle-palette").click()
        expect(page.locator(".palette")).to_be_hidden()
        assert canvas.bounding_box()["width"] > width + 400
        expect(page.get_by_test_id("toggle-panel")).to_have_attribute("aria-pressed", "false")
        screenshot(page, "canvas-creates-1024-closed")

        # Opening a block's settings on purpose brings the panel back.
        page.get_by_test_id("node-w1").dblclick()
        expect(page.get_by_test_id("panel")).to_be_visible()
        page.get_by_test_id("toggle-palette").click()
        expect(page.locator(".palette")).to_be_visible()
        assert errors == []
    finally:
        context.close()
