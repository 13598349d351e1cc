"""Script payloads planted in every field a marketer's pages show never run, and the pages keep
working under the Content-Security-Policy.

The payloads go in through the API and the services, as a shop, a CSV file or a bundle would
bring them; then a real Chromium visits every page that shows them, opens the canvas panels,
and fails on any dialog (alert), any element carrying an inline event handler (an escaped
attribute that broke out), any inline script, and any Content-Security-Policy complaint or
uncaught error in the console (a policy that silently breaks htmx or the canvas).
"""

from __future__ import annotations

import csv
import io
import re
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from playwright.sync_api import expect
from sqlmodel import col, select

from app.db import create_db_engine, session_scope
from app.models import MailboxMessage
from app.services.account.api_keys import create_api_key
from tests.fixtures.browser import LiveServer, log_in, run_worker_once, screenshot

pytestmark = pytest.mark.e2e

PAYLOADS = [
    'x" onmouseover=alert(1) x="',
    "x' onmouseover=alert(2) x='",
    'x" style=content-visibility:auto oncontentvisibilityautostatechange=alert(3) x="',
    "</script><script>alert(4)</script>",
    "<img src=x onerror=alert(5)>",
    "{{7*7}}",
    "</textarea></title><svg onload=alert(7)>",
]
TEMPLATE_LOOKING = "{{7*7}}"

# Everything suspicious in the page itself (not inside the sandboxed email frames), including
# the <template>s the canvas and the condition builder clone from.
SCAN = """() => {
  const found = [];
  const scan = (root) => {
    for (const el of root.querySelectorAll("*")) {
      for (const a of el.attributes) {
        if (/^on/i.test(a.name)) found.push(`<${el.tagName.toLowerCase()} ${a.name}="${a.value}">`);
      }
      if (el.tagName === "SCRIPT" && !el.src && el.type !== "application/json") {
        found.push(`inline <script>${el.textContent.slice(0, 60)}`);
      }
      if (el.tagName === "TEMPLATE") scan(el.content);
    }
  };
  scan(document);
  return found;
}"""


class Sweep:
    """Follows one browser tab and remembers everything that went wrong, page by page."""

    def __init__(self, page: Any, server: LiveServer) -> None:
        self.page = page
        self.server = server
        self.problems: list[str] = []
        self.where = "login"
        page.on("dialog", self._dialog)
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.problems.append(f"{self.where}: error {error}"))

    def _dialog(self, dialog: Any) -> None:
        self.problems.append(f"{self.where}: a {dialog.type} ran: {dialog.message!r}")
        dialog.dismiss()

    def _console(self, message: Any) -> None:
        text = message.text
        if message.type == "error" and ("Content Security Policy" in text or "Refused" in text):
            self.problems.append(f"{self.where}: {text}")

    def check(self, label: str) -> None:
        """Let the page render (content-visibility handlers fire then), then inspect it."""
        self.page.wait_for_timeout(150)
        for found in self.page.evaluate(SCAN):
            self.problems.append(f"{label}: {found}")

    def visit(self, path: str, label: str | None = None) -> None:
        self.where = label or path
        response = self.page.goto(self.server.url + path)
        assert response is not None, path
        assert response.status < 500, f"{path}: {response.status}"
        self.check(self.where)


def api_client(server: LiveServer) -> httpx.Client:
    engine = create_db_engine(server.settings.database_url)
    with session_scope(engine) as session:
        _, key = create_api_key(session, name=PAYLOADS[0])
        create_api_key(session, name=PAYLOADS[2])
    engine.dispose()
    return httpx.Client(
        base_url=server.url + "/api/v1", headers={"Authorization": f"Bearer {key}"}, timeout=30
    )


def ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code < 300, f"{response.request.url}: {response.text}"
    body: dict[str, Any] = response.json()
    return body


def condition(payload: str, n: int) -> dict[str, Any]:
    return {
        "all": [
            {"attribute": "note", "op": "eq", "value": payload},
            {"attribute": "note", "op": "in", "value": [payload, "b"]},
            {"event": payload, "op": "count_gte", "value": 1, "within_days": 30},
            {"list": f"xss-{n}", "op": "member"},
        ]
    }


def live_graph(payload: str) -> dict[str, Any]:
    """Entered by hand: a question on the planted note, an email and an alert for the yes."""
    return {
        "schema": 1,
        "nodes": [
            {"id": "start", "type": "trigger", "kind": "manual", "config": {}, "x": 40, "y": 140},
            {
                "id": "ask",
                "type": "condition",
                "kind": "if",
                "config": {"if": {"attribute": "note", "op": "eq", "value": payload}},
                "x": 300,
                "y": 140,
            },
            {
                "id": "mail",
                "type": "action",
                "kind": "send_email",
                "config": {"message": "xss-mail-0"},
                "x": 560,
                "y": 40,
            },
            {
                "id": "list",
                "type": "action",
                "kind": "add_to_list",
                "config": {"list": "xss-1"},
                "x": 560,
                "y": 240,
            },
        ],
        "edges": [
            {"from": "start", "to": "ask"},
            {"from": "ask", "port": "yes", "to": "mail"},
            {"from": "ask", "port": "no", "to": "list"},
        ],
        "settings": {
            "reentry": "always",
            "exit_when": {"attribute": "note", "op": "eq", "value": "never " + payload},
        },
    }


def draft_graph() -> dict[str, Any]:
    """Never switched on: every block whose settings hold free text, each with a payload."""
    p = PAYLOADS
    blocks: list[tuple[str, str, str, dict[str, Any]]] = [
        ("when", "trigger", "event", {"event": p[0], "where": condition(p[2], 0), "key": "id"}),
        ("changed", "trigger", "attribute_changed", {"attribute": "note", "to": p[1]}),
        (
            "route",
            "condition",
            "switch",
            {"cases": [{"port": "c1", "label": p[1], "if": condition(p[4], 4)}]},
        ),
        ("ask", "condition", "if", {"if": {"any": [condition(p[2], 2), condition(p[0], 0)]}}),
        ("wait", "delay", "wait_for_event", {"event": p[3], "timeout_seconds": 3600}),
        ("alert", "action", "notify_team", {"to": "team@xss.example", "message": p[4]}),
        ("note", "action", "update_attribute", {"attribute": "note", "value": p[6]}),
        (
            "hook",
            "action",
            "webhook",
            {"url": "http://127.0.0.1:9/x", "method": "POST", "body": p[5]},
        ),
    ]
    return {
        "schema": 1,
        "nodes": [
            {"id": i, "type": t, "kind": k, "config": c, "x": 40 + 260 * n, "y": 120}
            for n, (i, t, k, c) in enumerate(blocks)
        ],
        "edges": [
            {"from": "when", "to": "ask"},
            {"from": "changed", "to": "route"},
            {"from": "route", "port": "c1", "to": "ask"},
            {"from": "ask", "port": "yes", "to": "wait"},
            {"from": "wait", "port": "yes", "to": "alert"},
            {"from": "alert", "to": "note"},
            {"from": "note", "to": "hook"},
        ],
        "settings": {"reentry": "once", "exit_when": condition(p[3], 3)},
    }


def plant(server: LiveServer) -> dict[str, Any]:
    api = api_client(server)
    contacts = []
    for n, payload in enumerate(PAYLOADS):
        ok(api.post("/lists", json={"key": f"xss-{n}", "name": payload, "description": payload}))
        saved = ok(
            api.post(
                "/contacts",
                json={
                    "email": f"xss{n}@xss.example",
                    "first_name": payload,
                    "last_name": payload,
                    "attributes": {"note": payload, f"field-{n}": payload},
                    "lists": [f"xss-{n}"],
                    "consent": {"email": {"granted": True, "source": payload}},
                },
            )
        )
        contacts.append(saved["contact"]["id"])
        event = {
            "id": f"xss-event-{n}",
            "name": payload,
            "contact": {"email": f"xss{n}@xss.example"},
            "properties": {"note": payload, payload: payload, "items": [payload, {"x": payload}]},
        }
        assert api.post("/events", json=event).status_code == 202
        ok(
            api.post(
                "/segments",
                json={
                    "key": f"xss-seg-{n}",
                    "name": payload,
                    "description": payload,
                    "condition": condition(payload, n),
                },
            )
        )
        ok(
            api.post(
                "/messages",
                json={
                    "key": f"xss-mail-{n}",
                    "name": payload,
                    "subject": payload,
                    "html": f"<h1>{payload}</h1><p>{payload}</p>",
                    "text": payload,
                    "purpose": "transactional",
                },
            )
        )
    ok(
        api.post(
            "/messages",
            json={"key": "xss-sms", "name": PAYLOADS[3], "channel": "sms", "text": PAYLOADS[4]},
        )
    )
    live = ok(
        api.post(
            "/scenarios",
            json={
                "name": PAYLOADS[2],
                "description": PAYLOADS[0],
                "graph": live_graph(PAYLOADS[2]),
            },
        )
    )
    draft = ok(
        api.post(
            "/scenarios",
            json={"name": PAYLOADS[0], "description": PAYLOADS[4], "graph": draft_graph()},
        )
    )
    ok(api.post(f"/scenarios/{live['id']}/activate"))
    ok(api.post(f"/scenarios/{live['id']}/enroll", json={"contact_ids": contacts}))
    return {"contacts": contacts, "live": live["id"], "draft": draft["id"]}


def csv_with_payload_headers() -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(["Email", *PAYLOADS])
    writer.writerow(["imported@xss.example", *PAYLOADS])
    writer.writerow([PAYLOADS[4], *PAYLOADS])  # rejected: its reason quotes the payload
    return out.getvalue().encode()


def open_every_block(sweep: Sweep, scenario_id: int, nodes: list[str]) -> None:
    page = sweep.page
    sweep.visit(f"/scenarios/{scenario_id}", f"canvas {scenario_id}")
    page.wait_for_selector("#editor[data-ready=true]")
    for node in nodes:
        sweep.where = f"canvas {scenario_id} panel {node}"
        page.get_by_test_id(f"node-{node}").click()
        page.locator(f'.panel-inner[data-node="{node}"]').wait_for()
        sweep.check(sweep.where)
    sweep.where = f"canvas {scenario_id} settings"
    page.get_by_test_id("scenario-settings").click()
    page.get_by_test_id("settings-panel").wait_for()
    sweep.check(sweep.where)
    screenshot(page, f"xss-canvas-{scenario_id}")


def test_planted_payloads_never_run_on_any_page(page, live_server: LiveServer) -> None:  # type: ignore[no-untyped-def]
    planted = plant(live_server)
    run_worker_once(live_server)
    sweep = Sweep(page, live_server)
    log_in(page, live_server)
    page.wait_for_url(live_server.url + "/")
    sweep.check("home")

    sweep.visit("/contacts")
    sweep.visit("/contacts?q=xss")
    sweep.visit("/contacts/new")
    for contact_id in planted["contacts"]:
        sweep.visit(f"/contacts/{contact_id}")
        sweep.visit(f"/contacts/{contact_id}/edit")  # the edit form holds every field as typed
        sweep.visit(f"/scenarios/{planted['live']}/contacts/{contact_id}", "journey")
    sweep.visit(f"/contacts/{planted['contacts'][5]}")
    expect(page.get_by_text(TEMPLATE_LOOKING).first).to_be_visible()  # shown, not evaluated
    screenshot(page, "xss-contact")

    sweep.visit("/lists")
    for n in range(len(PAYLOADS)):
        sweep.visit(f"/lists/xss-{n}")  # its members card and the enroll box it loads
    page.get_by_label("Emails of contacts").fill("\n".join([*PAYLOADS, "xss1@xss.example"]))
    page.get_by_test_id("add-members").click()
    page.get_by_test_id("membership-report").wait_for()
    sweep.check("list members added by email")
    sweep.visit("/segments")
    for n in range(len(PAYLOADS)):
        sweep.visit(f"/segments/xss-seg-{n}")
    screenshot(page, "xss-segment")
    sweep.visit("/scenarios")
    sweep.visit(f"/scenarios/{planted['live']}/stats")
    sweep.visit(f"/scenarios/{planted['live']}/versions", "history")
    sweep.visit(f"/scenarios/{planted['live']}/versions/1", "version 1, read only")
    sweep.visit(f"/scenarios/{planted['live']}/blocks/ask/contacts", "who is behind a counter")
    open_every_block(sweep, planted["live"], ["start", "ask", "mail", "list"])
    open_every_block(
        sweep, planted["draft"], ["when", "changed", "ask", "wait", "alert", "note", "hook"]
    )

    sweep.visit("/messages")
    for n in range(len(PAYLOADS)):
        sweep.visit(f"/messages/xss-mail-{n}")
    sweep.visit("/messages/xss-sms")
    sweep.visit("/mailbox")
    for payload in PAYLOADS:
        sweep.visit("/mailbox?" + urlencode({"q": payload}), "mailbox search")
    engine = create_db_engine(live_server.settings.database_url)
    with session_scope(engine) as session:
        mails = session.scalars(select(col(MailboxMessage.id))).all()
    engine.dispose()
    assert mails, "the journeys sent nothing to the mailbox"
    for mail_id in mails:
        sweep.visit(f"/mailbox/{mail_id}")
    sweep.visit("/templates")
    sweep.visit("/settings")
    sweep.visit("/contacts/tracking")
    sweep.visit("/static/examples/shop.html?key=site_example", "example shop")

    sweep.visit("/contacts/import")
    page.get_by_label("CSV file").set_input_files(
        {"name": PAYLOADS[2] + ".csv", "mimeType": "text/csv", "buffer": csv_with_payload_headers()}
    )
    page.get_by_role("button", name="Upload and preview").click()
    expect(page.get_by_text("What does each column hold?")).to_be_visible()
    sweep.where = "import mapping"
    sweep.check(sweep.where)
    screenshot(page, "xss-import-mapping")
    page.get_by_role("button", name=re.compile(r"Import \d+ contacts?")).click()
    page.wait_for_url(re.compile(r"/contacts/imports/\d+$"))
    run_worker_once(live_server)
    expect(page.get_by_role("heading", name="Import finished")).to_be_visible(timeout=15_000)
    sweep.where = "import report"
    sweep.check(sweep.where)
    sweep.visit(page.url.removeprefix(live_server.url), "import report, reloaded")

    assert sweep.problems == [], "\n".join(sweep.problems)
