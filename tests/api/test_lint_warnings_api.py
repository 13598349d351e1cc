"""The linter's warnings that need the database, through the save endpoints: a field most
contacts lack, an SMS over 3 segments, a webhook the sender would refuse. Warnings, never
errors: the scenario still activates, with them in the answer."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.config import get_settings
from app.models import Scenario
from app.services.scenarios.lint_facts import unguarded_fields
from tests.fixtures.web import Browser

LINT_CODES = {"field_mostly_missing", "sms_too_long", "webhook_refused"}
# 460 characters of the GSM alphabet: 4 segments of 153. 459 is 3, the most that is fine.
FOUR_SEGMENTS = "A" * 460
THREE_SEGMENTS = "A" * 459


@pytest.fixture
def api(client: TestClient, api_key: str) -> TestClient:
    client.headers["Authorization"] = f"Bearer {api_key}"
    return client


def add_message(api: TestClient, key: str, **fields: Any) -> None:
    body = {"key": key, "name": key.replace("-", " ").title(), **fields}
    response = api.post("/api/v1/messages", json=body)
    assert response.status_code == 201, response.text


def add_contacts(api: TestClient, *attributes: dict[str, Any]) -> None:
    for number, values in enumerate(attributes):
        contact = {"email": f"c{number}@shop.example", "attributes": values}
        assert api.post("/api/v1/contacts", json=contact).status_code in (200, 201)


def graph(*actions: dict[str, Any]) -> dict[str, Any]:
    """A manual trigger, then the actions one after the other, a day apart."""
    nodes: list[dict[str, Any]] = [{"id": "start", "type": "trigger", "kind": "manual"}]
    edges: list[dict[str, str]] = []
    for number, action in enumerate(actions):
        if number:
            wait = {"id": f"day{number}", "type": "delay", "kind": "wait"}
            nodes.append({**wait, "config": {"seconds": 86_400}})
        nodes.append(action)
    edges += [{"from": a["id"], "to": b["id"]} for a, b in itertools.pairwise(nodes)]
    return {"schema": 1, "nodes": nodes, "edges": edges, "settings": {}}


def send(node_id: str, kind: str, message: str) -> dict[str, Any]:
    return {"id": node_id, "type": "action", "kind": kind, "config": {"message": message}}


def webhook(node_id: str, url: str) -> dict[str, Any]:
    return {"id": node_id, "type": "action", "kind": "webhook", "config": {"url": url}}


def save(api: TestClient, document: dict[str, Any]) -> tuple[int, list[dict[str, Any]]]:
    created = api.post("/api/v1/scenarios", json={"name": "Linted"})
    assert created.status_code == 201, created.text
    sid = created.json()["id"]
    response = api.put(f"/api/v1/scenarios/{sid}/graph", json={"graph": document, "revision": 1})
    assert response.status_code == 200, response.text
    return sid, response.json()["issues"]


def lint(issues: list[dict[str, Any]]) -> list[tuple[str, str]]:
    found = [issue for issue in issues if issue["code"] in LINT_CODES]
    assert all(issue["severity"] == "warning" for issue in found)
    return [(issue["node"], issue["code"]) for issue in found]


def message_of(issues: list[dict[str, Any]], node: str) -> str:
    return next(issue["message"] for issue in issues if issue["node"] == node)


def test_a_message_showing_a_field_only_a_quarter_of_the_contacts_have(api: TestClient) -> None:
    add_contacts(api, {"plan": "gold"}, {"plan": ""}, {"city": "Lyon"}, {})
    add_message(api, "plan-news", subject="News", html="<p>Your plan: {{ contact.plan }}</p>")
    add_message(
        api,
        "plan-safe",
        subject="News",
        html="<p>{{ contact.plan | default('free') }}{% if contact.city %}{{ contact.city }}"
        "{% endif %}</p>",
    )

    sid, issues = save(
        api, graph(send("news", "send_email", "plan-news"), send("safe", "send_email", "plan-safe"))
    )

    assert lint(issues) == [("news", "field_mostly_missing")]
    assert message_of(issues, "news") == (
        "Block 'Send an email': only 25% of your contacts have 'plan', which 'Plan News' shows: "
        "the others see a blank there; give it a fallback, e.g. "
        "{{ contact.plan | default('…') }}, or fill it in for more contacts"
    )
    # A warning: the scenario goes live, and the answer still shows it.
    activated = api.post(f"/api/v1/scenarios/{sid}/activate")
    assert activated.status_code == 200, activated.text
    assert [w["code"] for w in activated.json()["warnings"]] == ["field_mostly_missing"]


def test_a_field_most_contacts_have_is_fine(api: TestClient) -> None:
    add_contacts(api, {"plan": "gold"}, {"plan": "free"}, {"city": "Lyon"})
    add_message(api, "plan-news", subject="News", html="<p>{{ contact.attributes.plan }}</p>")

    _sid, issues = save(api, graph(send("news", "send_email", "plan-news")))

    assert lint(issues) == []


def test_with_no_contacts_yet_there_is_no_share_to_speak_of(api: TestClient) -> None:
    add_message(api, "plan-news", subject="News", html="<p>{{ contact.plan }}</p>")

    _sid, issues = save(api, graph(send("news", "send_email", "plan-news")))

    assert lint(issues) == []


def test_an_sms_over_three_segments(api: TestClient) -> None:
    add_message(api, "long-sms", channel="sms", text=FOUR_SEGMENTS)
    add_message(api, "fine-sms", channel="sms", text=THREE_SEGMENTS)

    _sid, issues = save(
        api, graph(send("long", "send_sms", "long-sms"), send("fine", "send_sms", "fine-sms"))
    )

    assert lint(issues) == [("long", "sms_too_long")]
    assert "'Long Sms' takes 4 SMS segments for the sample contact" in message_of(issues, "long")


def test_the_sms_is_counted_as_the_sample_contact_gets_it(api: TestClient) -> None:
    # 455 characters and a first name: "Léa" makes it 458 (3 segments), a longer name would not.
    add_message(api, "named-sms", channel="sms", text="A" * 455 + "{{ contact.first_name }}")

    _sid, issues = save(api, graph(send("named", "send_sms", "named-sms")))

    assert lint(issues) == []


@pytest.fixture
def allow_hooks_internal(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("PARCOURS_WEBHOOK_ALLOW", "10.1.0.0/16, localhost")
    get_settings.cache_clear()
    yield
    monkeypatch.delenv("PARCOURS_WEBHOOK_ALLOW")
    get_settings.cache_clear()


def test_a_webhook_to_an_address_the_sender_would_refuse(api: TestClient) -> None:
    _sid, issues = save(
        api,
        graph(
            webhook("loopback", "http://127.0.0.1:9000/hook"),
            webhook("metadata", "http://169.254.169.254/latest"),
            webhook("private", "http://10.1.2.3/hook"),
            webhook("local", "http://localhost:8000/"),
            webhook("public", "https://93.184.216.34/hook"),
            webhook("named", "https://hooks.example.com/x"),
        ),
    )

    assert lint(issues) == [
        ("loopback", "webhook_refused"),
        ("metadata", "webhook_refused"),
        ("private", "webhook_refused"),
        ("local", "webhook_refused"),
    ]
    assert message_of(issues, "metadata") == (
        "Block 'Call a webhook': the server will refuse to call this address: 169.254.169.254 "
        "is a link-local address, such as a cloud's metadata service; use a public address, or "
        "ask your administrator to add it to PARCOURS_WEBHOOK_ALLOW if it is meant"
    )
    assert "127.0.0.1 is this server itself" in message_of(issues, "loopback")


def test_an_address_in_the_allow_list_is_not_warned_of(
    api: TestClient, allow_hooks_internal: None
) -> None:
    _sid, issues = save(
        api,
        graph(
            webhook("private", "http://10.1.2.3/hook"),
            webhook("local", "http://localhost:8000/"),
            webhook("other", "http://10.2.0.1/hook"),
        ),
    )

    assert lint(issues) == [("other", "webhook_refused")]


def test_the_canvas_autosave_says_the_warnings_in_french(
    french: Browser, session: Session, api_key: str
) -> None:
    api = french.client
    auth = {"Authorization": f"Bearer {api_key}"}
    for number, values in enumerate([{"plan": "gold"}, {}, {}, {}, {}]):
        contact = {"email": f"c{number}@shop.example", "attributes": values}
        assert api.post("/api/v1/contacts", json=contact, headers=auth).status_code in (200, 201)
    news = {"key": "plan-news", "name": "Nouveautés", "subject": "N", "html": "{{ contact.plan }}"}
    assert api.post("/api/v1/messages", json=news, headers=auth).status_code == 201
    long_sms = {"key": "long-sms", "name": "Promo", "channel": "sms", "text": FOUR_SEGMENTS}
    assert api.post("/api/v1/messages", json=long_sms, headers=auth).status_code == 201
    scenario = Scenario(name="Bienvenue", draft={"schema": 1, "nodes": [], "edges": []})
    session.add(scenario)
    session.commit()
    document = graph(
        send("news", "send_email", "plan-news"),
        send("sms", "send_sms", "long-sms"),
        webhook("hook", "http://127.0.0.1/hook"),
    )

    saved = api.put(
        f"/scenarios/{scenario.id}/draft",
        json={"graph": document, "revision": 1},
        headers={"X-CSRF-Token": french.csrf},
    )

    assert saved.status_code == 200, saved.text
    issues = saved.json()["issues"]
    assert sorted(lint(issues)) == [
        ("hook", "webhook_refused"),
        ("news", "field_mostly_missing"),
        ("sms", "sms_too_long"),
    ]
    assert re.search(
        r"^Le bloc « Envoyer un e-mail » : seuls 20\s% de vos contacts ont « plan », que "
        r"« Nouveautés » affiche",
        message_of(issues, "news"),
    )
    assert "« Promo » prend 4 segments SMS pour le contact d’exemple" in message_of(issues, "sms")
    assert "127.0.0.1 désigne ce serveur lui-même" in message_of(issues, "hook")


@pytest.mark.parametrize(
    ("source", "fields"),
    [
        ("{{ contact.plan }} {{ contact.attributes.city }}", {"plan", "city"}),
        ('{{ contact.attributes["gift-wrap"] }}', {"gift-wrap"}),
        ("{{ contact.first_name }} {{ contact.email }} {{ contact.score }}", {"first_name"}),
        ("{{ contact.plan | default('free') }}", set()),
        ("{% if contact.plan %}{{ contact.plan }}{% endif %}", set()),
        ("{{ contact.plan if contact.plan else 'free' }}", set()),
        ("{{ contact.name }} {{ contact.lists }} {{ event.properties.total }}", set()),
        ("{{ broken", set()),
    ],
)
def test_the_fields_a_template_shows_without_a_fallback(source: str, fields: set[str]) -> None:
    assert unguarded_fields([source]) == fields
