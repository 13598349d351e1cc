"""Payloads planted in the fields the issue-14 pages show (contact names and attributes, list,
segment, message and scenario names, the emails pasted on a list's page, the Mailbox search, a
refused form sent back) come back escaped: no element or attribute the payload made, and a
template-looking text shown as typed, not evaluated. The browser sweep (tests/e2e/
test_xss_sweep.py) runs the older pages under Chromium; this reads the new ones' HTML."""

from __future__ import annotations

import copy
from html.parser import HTMLParser
from typing import Any

import pytest
from sqlmodel import Session

from app.clock import SystemClock
from app.models import Contact, ContactList, MailboxMessage, MessageTemplate, Segment
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
        if tag == "svg" and not any(name == "class" for name, _ in attrs):
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
