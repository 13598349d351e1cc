"""A real Chromium draws scenarios on the canvas with the mouse, and the saved JSON is the drawing.

Each step is kept as a screenshot under test-artifacts/screenshots/canvas-*.png.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect
from sqlmodel import select

from app.db import create_db_engine, session_scope
from app.models import ContactList, MessageTemplate, Scenario
from app.services.account.api_keys import create_api_key
from app.services.scenarios.scenarios import create_scenario
from tests.fixtures.browser import LiveServer, log_in, screenshot

pytestmark = pytest.mark.e2e


# --- helpers shared by the canvas browser tests ---------------------------------------------


def ensure_refs(server: LiveServer) -> None:
    """The email template and the list the loyal-customer scenario uses."""
    engine = create_db_engine(server.settings.database_url)
    with session_scope(engine) as session:
        if not session.exec(
            select(MessageTemplate).where(MessageTemplate.key == "coupon-20")
        ).first():
            session.add(MessageTemplate(key="coupon-20", name="Coupon 20%", subject="20% off"))
        if not session.exec(
            select(ContactList).where(ContactList.key == "loyal-customers")
        ).first():
            session.add(ContactList(key="loyal-customers", name="Loyal customers"))
    engine.dispose()


def make_scenario(server: LiveServer, name: str, graph: dict[str, Any] | None = None) -> int:
    from app.clock import utcnow

    engine = create_db_engine(server.settings.database_url)
    with session_scope(engine) as session:
        scenario = create_scenario(session, name=name, graph=graph, now=utcnow())
        scenario_id = scenario.id
    engine.dispose()
    assert scenario_id is not None
    return scenario_id


def api_graph(server: LiveServer, scenario_id: int) -> dict[str, Any]:
    """The saved draft, read through the public API as a shop would."""
    engine = create_db_engine(server.settings.database_url)
    with session_scope(engine) as session:
        _, key = create_api_key(session, name="canvas test")
    engine.dispose()
    response = httpx.get(
        f"{server.url}/api/v1/scenarios/{scenario_id}",
        headers={"Authorization": f"Bearer {key}"},
    )
    assert response.status_code == 200, response.text
    graph: dict[str, Any] = response.json()["graph"]
    return graph


def saved_status(server: LiveServer, scenario_id: int) -> str:
    engine = create_db_engine(server.settings.database_url)
    with session_scope(engine) as session:
        scenario = session.get(Scenario, scenario_id)
        assert scenario is not None
        status = str(scenario.status)
    engine.dispose()
    return status


def open_editor(page, server: LiveServer, scenario_id: int, errors: list[str]) -> None:  # type: ignore[no-untyped-def]
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    log_in(page, server)
    page.wait_for_url(server.url + "/")
    page.goto(f"{server.url}/scenarios/{scenario_id}")
    page.wait_for_selector("#editor[data-ready=true]")


def center(page, testid: str) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    box = page.get_by_test_id(testid).bounding_box()
    assert box, testid
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def drag(
    page, start: tuple[float, float], end: tuple[float, float], *, release: bool = True
) -> None:  # type: ignore[no-untyped-def]
    page.mouse.move(*start)
    page.mouse.down()
    page.mouse.move(start[0] + 8, start[1] + 8, steps=2)
    page.mouse.move(*end, steps=8)
    if release:
        page.mouse.up()


def drop_block(page, palette: str, at: tuple[float, float]) -> None:  # type: ignore[no-untyped-def]
    page.get_by_test_id(palette).scroll_into_view_if_needed()
    drag(page, center(page, palette), at)


def canvas_point(page, x: float, y: float) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    box = page.get_by_test_id("canvas").bounding_box()
    return box["x"] + x, box["y"] + y


def wire(page, port: str, node: str) -> None:  # type: ignore[no-untyped-def]
    drag(page, center(page, port), center(page, node))


def save_now(page) -> None:  # type: ignore[no-untyped-def]
    page.get_by_test_id("save").click()
    expect(page.get_by_test_id("save-status")).to_have_attribute("data-state", "saved")


def summary(page, node: str) -> str:  # type: ignore[no-untyped-def]
    text: str = page.get_by_test_id(node).locator(".node-summary").inner_text()
    return text


def without_positions(graph: dict[str, Any]) -> dict[str, Any]:
    nodes = [{k: v for k, v in n.items() if k not in ("x", "y")} for n in graph["nodes"]]
    edges = sorted(graph["edges"], key=lambda e: (e["from"], e.get("port", ""), e["to"]))
    return {**graph, "nodes": sorted(nodes, key=lambda n: n["id"]), "edges": edges}


def forget_expected(errors: list[str], status: int) -> None:
    """A refusal the test provoked on purpose: the browser logs its 4xx answer once."""
    logged = [e for e in errors if f"status of {status}" in e]
    assert logged, f"the browser saw no {status} answer"
    errors.remove(logged[0])


@pytest.fixture
def console_errors() -> Iterator[list[str]]:
    errors: list[str] = []
    yield errors
    assert errors == [], "the canvas logged errors in the browser console"


# --- the loyal-customer scenario, drawn with the mouse ----------------------------------------

LOYAL = {
    "schema": 1,
    "nodes": [
        {"id": "event_1", "type": "trigger", "kind": "event", "config": {"event": "purchase"}},
        {
            "id": "if_1",
            "type": "condition",
            "kind": "if",
            "config": {"if": {"attribute": "orders_count", "op": "eq", "value": 1}},
        },
        {
            "id": "send_email_1",
            "type": "action",
            "kind": "send_email",
            "config": {"message": "coupon-20"},
        },
        {
            "id": "add_to_list_1",
            "type": "action",
            "kind": "add_to_list",
            "config": {"list": "loyal-customers"},
        },
    ],
    "edges": [
        {"from": "event_1", "to": "if_1"},
        {"from": "if_1", "port": "no", "to": "add_to_list_1"},
        {"from": "if_1", "port": "yes", "to": "send_email_1"},
    ],
    # The new-scenario form asked how often a contact may enter: its default, in the draft.
    "settings": {"reentry": "once", "exit_when": None},
}


def test_draw_the_loyal_customer_scenario_with_the_mouse_and_get_exactly_that_json(
    page, live_server: LiveServer, console_errors: list[str]
) -> None:  # type: ignore[no-untyped-def]
    ensure_refs(live_server)
    log_in(page, live_server)
    page.wait_for_url(live_server.url + "/")
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    page.goto(live_server.url + "/scenarios")
    page.get_by_placeholder("Name, e.g. Loyal customers").fill("Loyal customers")
    page.get_by_test_id("new-scenario").click()
    page.wait_for_selector("#editor[data-ready=true]")
    scenario_id = int(page.url.rstrip("/").split("/")[-1])
    screenshot(page, "canvas-01-blank")

    drop_block(page, "palette-trigger-event-purchase", canvas_point(page, 150, 250))
    drop_block(page, "palette-condition-if", canvas_point(page, 420, 250))
    drop_block(page, "palette-action-send_email", canvas_point(page, 700, 140))
    drop_block(page, "palette-action-add_to_list", canvas_point(page, 700, 380))
    screenshot(page, "canvas-02-blocks-dropped")

    wire(page, "port-event_1-out", "node-if_1")
    wire(page, "port-if_1-yes", "node-send_email_1")
    wire(page, "port-if_1-no", "node-add_to_list_1")
    for edge in [
        "edge-event_1-out-if_1",
        "edge-if_1-yes-send_email_1",
        "edge-if_1-no-add_to_list_1",
    ]:
        assert page.get_by_test_id(edge).count() == 1, edge
    screenshot(page, "canvas-03-wired")

    page.get_by_test_id("node-if_1").click()
    panel = page.get_by_test_id("panel")
    panel.get_by_role("button", name="Test").click()
    panel.get_by_label("Detail").fill("orders_count")
    panel.get_by_label("Value").fill("1")
    panel.get_by_label("Value").press("Tab")
    expect(page.locator("[data-testid=node-if_1] .node-summary")).to_have_text(
        "If orders count = 1"
    )
    screenshot(page, "canvas-04-condition")

    page.get_by_test_id("node-send_email_1").click()
    panel.get_by_label("The email to send").select_option("coupon-20")
    expect(page.locator("[data-testid=node-send_email_1] .node-summary")).to_have_text(
        "Send email 'Coupon 20%'"
    )
    page.get_by_test_id("node-add_to_list_1").click()
    panel.get_by_label("The list").select_option("loyal-customers")
    expect(page.locator("[data-testid=node-add_to_list_1] .node-summary")).to_have_text(
        "Add to list 'Loyal customers'"
    )
    save_now(page)
    screenshot(page, "canvas-05-saved")

    page.reload()
    page.wait_for_selector("#editor[data-ready=true]")
    assert summary(page, "node-if_1") == "If orders count = 1"
    assert page.get_by_test_id("edge-if_1-no-add_to_list_1").count() == 1
    screenshot(page, "canvas-06-reloaded")

    saved = api_graph(live_server, scenario_id)
    assert without_positions(saved) == without_positions(LOYAL)
    assert all(isinstance(n["x"], int) and isinstance(n["y"], int) for n in saved["nodes"])
    xs = {n["id"]: n["x"] for n in saved["nodes"]}
    assert xs["event_1"] < xs["if_1"] < xs["send_email_1"], "blocks stay where they were dropped"
