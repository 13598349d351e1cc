"""How fast the canvas opens and answers with a 200-block scenario, in a real Chromium.

Target (issue 7): a 200-block scenario opens and is interactive in under a second. The
baseline, measured in the same run on the same server, is an empty scenario: the ratio shows
what the blocks themselves cost. Figures are medians of a few runs:

- open: from navigation to the canvas being ready (cards placed, links drawn, handlers bound);
- select: from a click on a block to its settings panel being shown;
- drag: one pointer move of a selected block until the next frame is painted.
"""

from __future__ import annotations

import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import uvicorn

sys.path.insert(0, str(Path(__file__).parents[1]))

from app.clock import utcnow
from app.config import Settings
from app.db import create_db_engine, session_scope
from app.main import create_app
from app.migrate import upgrade
from app.services.account.users import create_user
from app.services.scenarios.scenarios import create_scenario

BLOCKS = int(os.environ.get("BENCH_CANVAS_BLOCKS", "200"))
RUNS = int(os.environ.get("BENCH_CANVAS_RUNS", "5"))
PASSWORD = "bench-password-123"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run"]


def chromium_path() -> str | None:
    """Debian's Chromium when present (browser downloads are not possible everywhere)."""
    for candidate in ("/usr/bin/chromium", "/usr/bin/chromium-browser"):
        if Path(candidate).exists():
            return candidate
    return shutil.which("chromium")


def big_graph(blocks: int) -> dict[str, Any]:
    """A trigger, then yes/no questions whose branches wait and send, laid out in columns."""
    nodes: list[dict[str, Any]] = [
        {"id": "start", "type": "trigger", "kind": "event", "config": {"event": "purchase"}}
    ]
    edges: list[dict[str, str]] = []
    frontier = ["start"]
    kinds = [
        ("condition", "if", {"if": {"attribute": "orders_count", "op": "gte", "value": 2}}),
        ("delay", "wait", {"seconds": 86400}),
        ("action", "send_email", {"message": "welcome"}),
        ("action", "add_score", {"points": 5}),
    ]
    i = 0
    while len(nodes) < blocks:
        parent = frontier.pop(0)
        parent_node = next(n for n in nodes if n["id"] == parent)
        ports = ["yes", "no"] if parent_node["kind"] == "if" else ["out"]
        for port in ports:
            if len(nodes) >= blocks:
                break
            block_type, kind, config = kinds[i % len(kinds)]
            i += 1
            node_id = f"b{i}"
            nodes.append({"id": node_id, "type": block_type, "kind": kind, "config": config})
            edge = {"from": parent, "to": node_id}
            if port != "out":
                edge["port"] = port
            edges.append(edge)
            frontier.append(node_id)
    for index, node in enumerate(nodes):
        node["x"], node["y"] = 80 + (index // 12) * 320, 80 + (index % 12) * 140
    return {"schema": 1, "nodes": nodes, "edges": edges, "settings": {}}


def serve(folder: Path) -> tuple[str, uvicorn.Server, threading.Thread, int, int]:
    port = 8000 + os.getpid() % 1000
    settings = Settings(
        env="test",
        data_dir=folder,
        database_url=f"sqlite:///{(folder / 'bench.db').as_posix()}",
        secret_key="bench-secret-" + "z" * 40,
        base_url=f"http://127.0.0.1:{port}",
    )
    upgrade(settings.database_url)
    engine = create_db_engine(settings.database_url)
    with session_scope(engine) as session:
        create_user(session, email="bench@parcours.test", password=PASSWORD)
        empty = create_scenario(session, name="Empty", graph=None, now=utcnow()).id
        big = create_scenario(session, name="Big", graph=big_graph(BLOCKS), now=utcnow()).id
    engine.dispose()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert empty is not None
    assert big is not None
    return settings.base_url, server, thread, empty, big


def measure(page: Any, url: str, scenario_id: int, blocks: int) -> dict[str, float]:
    started = time.perf_counter()
    page.goto(f"{url}/scenarios/{scenario_id}")
    page.wait_for_selector("#editor[data-ready=true]")
    opened = time.perf_counter() - started
    figures = {"open": opened * 1000}
    if blocks:
        target = page.locator(".node[data-id]").nth(blocks // 2)
        target.scroll_into_view_if_needed()
        started = time.perf_counter()
        target.click()
        page.wait_for_selector(".panel-form")
        figures["select"] = (time.perf_counter() - started) * 1000
        box = target.bounding_box()
        page.mouse.move(box["x"] + 60, box["y"] + 50)
        page.mouse.down()
        started = time.perf_counter()
        page.mouse.move(box["x"] + 90, box["y"] + 80)
        page.evaluate("() => new Promise((done) => requestAnimationFrame(() => done()))")
        figures["drag"] = (time.perf_counter() - started) * 1000
        page.mouse.up()
    return figures


def main() -> None:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        url, server, thread, empty, big = serve(Path(tmp))
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
            page = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
            page.goto(url + "/login")
            page.get_by_label("Email").fill("bench@parcours.test")
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Log in").click()
            page.wait_for_url(url + "/")
            runs: dict[str, list[dict[str, float]]] = {"empty": [], "big": []}
            for _ in range(RUNS):
                runs["empty"].append(measure(page, url, empty, 0))
                runs["big"].append(measure(page, url, big, BLOCKS))
            browser.close()
        server.should_exit = True
        thread.join(timeout=30)
    median = {
        name: {key: statistics.median(r[key] for r in rs) for key in rs[0]}
        for name, rs in runs.items()
    }
    base, big_run = median["empty"], median["big"]
    print(f"canvas with {BLOCKS} blocks, Chromium at 1280x800, median of {RUNS} runs")
    print(f"  open, empty scenario (baseline):  {base['open']:7.0f} ms")
    print(
        f"  open, {BLOCKS} blocks:               {big_run['open']:7.0f} ms"
        f"   ratio x{big_run['open'] / base['open']:.2f}   target < 1000 ms"
    )
    print(f"  click a block -> its panel:       {big_run['select']:7.0f} ms")
    print(f"  drag a block, one frame:          {big_run['drag']:7.0f} ms")


if __name__ == "__main__":
    main()
