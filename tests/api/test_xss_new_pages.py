"""Payloads planted in the fields the issue-14 pages show (contact names and attributes, list,
segment, message and scenario names, the emails pasted on a list's page, the Mailbox search, a
refused form sent back) come back escaped: no element or attribute the payload made, and a
template-looking text shown as typed, not evaluated. The browser sweep (tests/e2e/
test_xss_sweep.py) runs the older pages under Chromium; this reads the new ones' HTML."""

from __future__ import annotations

import copy
from html.parser import HTMLParser
from itertools import pairwise
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from sqlmodel import Session, select

from app.clock import SystemClock
from app.models import (
    Contact,
    ContactList,
    Enrollment,
    EnrollmentState,
    MailboxMessage,
    MessageTemplate,
    ScenarioVersion,
    Segment,
    Simulation,
    SimulationStatus,
)
from app.services.account.users import create_user
from app.services.scenarios import scenarios as scenario_service
from tests.api.test_enroll_by_hand import BY_HAND
from tests.fixtures.web import Browser

PAYLOADS = (
    "<img src=x onerror=alert(1)>",
    "\"'><svg onload=alert(2)>",
    "x' onmouseover=alert(3) x='",
    "</textarea></title><script>alert(4)</script>",
    "{{7*7}}",
)
EVIL_TAGS = {"img", "svg"}


class Scan(HTMLParser):
    """Every inline event handler, every <img>/<svg> and every <script> with a body."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name.startswith("on") or name.startswith("hx-on"):
                self.found.append(f"<{tag} {name}={value!r}>")
        if tag in EVIL_TAGS and any(v == "x" or "alert" in (v or "") for _, v in attrs):
            self.found.append(f"<{tag} {attrs}>")
        # The page's own: icons (a class) and charts (role="img"); a payload's has neither.
        if tag == "svg" and not any(name in ("class", "role") for name, _ in attrs):
            self.found.append(f"<svg {attrs}> (not an icon)")
        # A JSON island (the canvas's data) holds the payloads as escaped JSON text: only a
        # script that would run counts, and one the payload opened by breaking out would.
        runs = not any(name == "src" or value == "application/json" for name, value in attrs)
        self._script = tag == "script" and runs

    def handle_endtag(self, tag: str) -> None:
        self._script = False

    def handle_data(self, data: str) -> None:
        if self._script and "alert" in data:
            self.found.append(f"<script>{data[:60]}")
        if data.strip() == "49":
            self.found.append("{{7*7}} evaluated to 49")


def problems(label: str, response: Any) -> list[str]:
    """What in an HTML answer a payload made; a JSON answer (nosniff) is data, not a page."""
    if response.headers.get("content-type", "").startswith("application/json"):
        response.json()
        return []
    scan = Scan()
    scan.feed(response.text)
    return [f"{label}: {found}" for found in scan.found]


@pytest.fixture
def planted(session: Session) -> dict[str, Any]:
    contacts = []
    for n, payload in enumerate(PAYLOADS):
        contact_list = ContactList(key=f"xss-{n}", name=payload, description=payload)
        session.add(contact_list)
        session.add(
            Segment(key=f"xss-seg-{n}", name=payload, condition={"attribute": "a", "op": "exists"})
        )
        session.add(
            MessageTemplate(
                key=f"xss-mail-{n}", name=payload, subject=payload, html=f"<p>{payload}</p>"
            )
        )
        contact = Contact(
            email=f"xss{n}@xss.example",
            first_name=payload,
            last_name=payload,
            attributes={"note": payload, f"field{n}": payload},
            email_consent=True,
            email_consent_source=payload,
        )
        session.add(contact)
        session.flush()
        contacts.append(contact.id)
        session.add(
            MailboxMessage(
                channel="email", to_address=f"xss{n}@xss.example", subject=payload, html=payload
            )
        )
    now = SystemClock().now()
    scenario_ids = []
    for payload in PAYLOADS:
        scenario = scenario_service.create_scenario(
            session, name=payload, graph=copy.deepcopy(BY_HAND), now=now
        )
        scenario_ids.append(scenario.id)
    session.add(ContactList(key="enrolled", name="Enrolled"))
    scenario_service.activate(session, scenario_ids[0], now=now)  # type: ignore[arg-type]
    session.commit()
    return {"contacts": contacts, "scenarios": scenario_ids}


def test_the_new_pages_show_planted_payloads_escaped(
    logged_in: Browser, planted: dict[str, Any]
) -> None:
    client = logged_in.client
    sid = planted["scenarios"][0]
    pages = ["/contacts/new", "/lists", "/segments", "/messages", "/scenarios", "/mailbox"]
    for contact_id in planted["contacts"]:
        pages += [f"/contacts/{contact_id}", f"/contacts/{contact_id}/edit"]
        pages += [
            f"/enroll?contact={contact_id}",
            f"/enroll/preview?scenario={sid}&contact={contact_id}",
        ]
    for n in range(len(PAYLOADS)):
        pages += [f"/lists/xss-{n}", f"/enroll?list=xss-{n}", f"/messages/xss-mail-{n}"]
        pages += [f"/enroll/preview?scenario={sid}&who=list:xss-{n}"]
        pages += [f"/enroll/preview?scenario={sid}&who=segment:xss-seg-{n}"]
        pages += [f"/scenarios/{planted['scenarios'][n]}"]
    found: list[str] = []
    for path in pages:
        response = client.get(path)
        assert response.status_code < 500, path
        found += problems(path, response)
    for payload in PAYLOADS:
        for path, params in (
            ("/mailbox", {"q": payload}),
            ("/enroll/preview", {"scenario": str(sid), "who": "email", "email": payload}),
            ("/keys/suggest", {"name": payload}),
        ):
            response = client.get(path, params=params)
            found += problems(f"{path}?{params}", response)
    assert found == [], "\n".join(found)
    shown = "&lt;img src=x onerror=alert(1)&gt;"  # the payload is there, as text
    for path in ("/lists/xss-0", f"/contacts/{planted['contacts'][0]}/edit", "/enroll?list=xss-0"):
        assert shown in client.get(path).text, path
    assert "{{7*7}}" in client.get(f"/contacts/{planted['contacts'][4]}/edit").text


def test_refused_forms_send_the_payload_back_escaped(
    logged_in: Browser, planted: dict[str, Any]
) -> None:
    contact_id = planted["contacts"][0]
    sid = planted["scenarios"][1]
    found: list[str] = []
    for payload in PAYLOADS:
        posts: list[tuple[str, dict[str, str]]] = [
            (
                "/contacts/new",
                {
                    "email": payload,
                    "first_name": payload,
                    "last_name": payload,
                    "phone": payload,
                    "attr_name_0": payload,
                    "attr_value_0": payload,
                    "attr_kind_0": payload,
                    "lists": payload,
                },
            ),
            (
                f"/contacts/{contact_id}/edit",
                {
                    "email": payload,
                    "first_name": payload,
                    "attr_name_0": "n",
                    "attr_value_0": payload,
                    "attr_kind_0": "number",
                },
            ),
            (
                "/lists/xss-0/members/add",
                {"emails": f"{payload}\nxss1@xss.example\nnobody@x.example"},
            ),
            ("/lists/xss-0/members/remove", {"emails": payload}),
            (
                "/enroll",
                {"scenario": str(planted["scenarios"][0]), "who": "email", "email": payload},
            ),
            (f"/scenarios/{sid}/rename", {"name": payload + "x" * 300}),
            ("/scenarios/blocks/new-list", {"name": payload}),
            ("/lists/xss-1/rename", {"name": payload * 40}),
        ]
        for url, data in posts:
            for htmx in (False, True):
                response = logged_in.post(url, data, htmx=htmx)
                assert response.status_code < 500, url
                found += problems(f"POST {url} htmx={htmx}", response)
    assert found == [], "\n".join(found)


def test_history_publish_sheet_simulation_and_versions_show_planted_payloads_escaped(
    logged_in: Browser, planted: dict[str, Any], session: Session
) -> None:
    """The issue-15/16 pages: block ids, list, message, scenario and author names and contact
    emails planted with payloads, on the history, a version's canvas, the publish sheet and
    its choices, a simulation's answer and a simulated journey, and per-version statistics."""
    now = SystemClock().now()
    wait_id, mail_id, tip_id = PAYLOADS[1], PAYLOADS[0], PAYLOADS[2]  # no "/": ids in paths
    nodes = [
        {"id": "joined", "type": "trigger", "kind": "list_added", "config": {"list": "xss-0"}},
        {
            "id": mail_id,
            "type": "action",
            "kind": "send_email",
            "config": {"message": "xss-mail-0"},
        },
        {"id": wait_id, "type": "delay", "kind": "wait", "config": {"seconds": 86_400}},
        {"id": tip_id, "type": "action", "kind": "send_email", "config": {"message": "xss-mail-1"}},
    ]
    ids = [n["id"] for n in nodes]
    live = {
        "schema": 1,
        "nodes": nodes,
        "edges": [{"from": a, "to": b} for a, b in pairwise(ids)],
        "settings": {"reentry": "always"},
    }
    author = create_user(session, email="evil@xss.example", password="x" * 12, name=PAYLOADS[1])
    scenario = scenario_service.create_scenario(
        session, name=PAYLOADS[3], graph=copy.deepcopy(live), now=now
    )
    sid = scenario.id or 0
    scenario_service.activate(session, sid, now=now, user_id=author.id)
    version = session.exec(select(ScenarioVersion).where(ScenarioVersion.scenario_id == sid)).one()
    contacts = [session.get(Contact, cid) for cid in planted["contacts"]]
    for contact in contacts:
        assert contact is not None
        contact.email = f"{PAYLOADS[contacts.index(contact)]}@xss.example"
        session.add(contact)
        session.add(
            Enrollment(scenario_id=sid, version_id=version.id or 0, contact_id=contact.id or 0,
                       node_id=wait_id, state=EnrollmentState.waiting, wake_at=now)
        )  # fmt: skip
    draft = copy.deepcopy(live)  # the wait removed
    draft["nodes"] = [n for n in nodes if n["id"] != wait_id]
    draft["edges"] = [{"from": "joined", "to": mail_id}, {"from": mail_id, "to": tip_id}]
    scenario_service.save_draft(session, sid, draft, revision=scenario.draft_revision, now=now)
    at = now.isoformat()
    simulation = Simulation(
        scenario_id=sid, graph=copy.deepcopy(draft), as_of=now, created_at=now,
        status=SimulationStatus.done, progress=1.0,
        result={
            "entered": 5, "nodes": {mail_id: {"entered": 5}}, "messages": {"email": 5, "sms": 0},
            "messages_per_day": [], "skipped_reasons": {PAYLOADS[0]: 1},
            "samples": {mail_id: planted["contacts"]},
            "journeys": {str(c): [{"node_id": mail_id, "outcome": "completed", "detail": None,
                                   "at": at}] for c in planted["contacts"]},
            "warnings": [
                {"node": mail_id, "code": "burst_at_activation", "count": 150,
                 "message": PAYLOADS[0]},
                {"node": tip_id, "code": "tracking_not_predicted", "event": PAYLOADS[2]},
            ],
        },
    )  # fmt: skip
    session.add(simulation)
    session.commit()
    client = logged_in.client
    base = f"/scenarios/{sid}"
    pages = [f"{base}/versions", f"{base}/versions/1", f"{base}/publish-dialog", base]
    pages += [f"{base}/simulations/{simulation.id}"]
    pages += [f"{base}/simulations/{simulation.id}/contacts/{c}" for c in planted["contacts"]]
    for action in ("stay", "move", "exit"):
        for to in (tip_id, mail_id, "joined"):
            query = urlencode({"node": wait_id, "action-0": action, "to-0": to})
            pages += [f"{base}/publish-dialog?{query}", f"{base}/publish-dialog/choices?{query}"]
    found: list[str] = []
    for path in pages:
        response = client.get(
            path, headers={"HX-Request": "true"} if "simulations/" in path else {}
        )
        assert response.status_code == 200, path
        found += problems(path, response)
    published = client.post(
        f"{base}/activate",
        json={"migration": {wait_id: {"action": "move", "to": tip_id}}, "from_version": 1},
        headers={"X-CSRF-Token": logged_in.csrf},
    )
    assert published.status_code == 200, published.text
    after = [f"{base}/versions", f"{base}/versions/2", f"{base}/stats", f"{base}/stats?version=1"]
    after += [f"{base}/contacts/{c}" for c in planted["contacts"]]
    for node_id in (wait_id, tip_id):
        after += [f"{base}/blocks/{quote(node_id, safe='')}/contacts?version=1"]
    for path in after:
        response = client.get(path)
        assert response.status_code == 200, path
        found += problems(path, response)
    shown = "&lt;img src=x onerror=alert(1)&gt;"  # there, as text
    answer = client.get(f"{base}/simulations/{simulation.id}", headers={"HX-Request": "true"})
    assert f"would get “{shown}” within 5 minutes" in answer.text  # the burst warning
    assert "&#34;&#39;&gt;&lt;svg onload=alert(2)&gt;" in client.get(f"{base}/versions").text
    restored = logged_in.post(f"{base}/versions/1/restore")
    assert restored.status_code == 303
    found += problems("restored canvas", client.get(base))
    assert found == [], "\n".join(found)
