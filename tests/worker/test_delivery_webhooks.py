"""Webhooks, team alerts and the SMS provider adapter."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine

from app.clock import FrozenClock
from app.config import Settings
from app.db import session_scope
from tests.worker.delivery_kit import (
    add_contact,
    add_template,
    drain,
    mailbox,
    outbox,
    queue,
    with_settings,
)
from worker.delivery.smtp import SendError
from worker.delivery.webhook import AllowList, WebhookCall, WebhookSender, check_destination


class Receiver(BaseHTTPRequestHandler):
    calls: list[dict[str, Any]]

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.calls.append(
            {
                "method": self.command,
                "path": self.path,
                "headers": dict(self.headers),
                "body": json.loads(body) if body else None,
            }
        )
        status = {"/fail": 503, "/bad": 400, "/moved": 302}.get(self.path, 200)
        self.send_response(status)
        if status == 302:
            self.send_header("Location", "http://169.254.169.254/")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"no" if status >= 400 else b"ok")

    do_POST = do_PUT = do_GET = _answer

    def log_message(self, *args: Any) -> None:
        return None


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    calls: list[dict[str, Any]] = []
    handler = type("Handler", (Receiver,), {"calls": calls})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", calls
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/hook",
        "http://localhost/hook",
        "http://10.0.0.5/hook",
        "http://192.168.1.20/hook",
        "http://172.16.3.4/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://[fe80::1]/hook",
        "http://0.0.0.0/hook",
        "ftp://example.com/hook",
    ],
)
async def test_private_loopback_and_link_local_destinations_are_refused(url: str) -> None:
    with pytest.raises(SendError) as refused:
        await check_destination(url, AllowList.parse(""))
    assert refused.value.permanent


async def test_a_public_address_or_an_allowed_network_passes() -> None:
    await check_destination("https://93.184.216.34/hook", AllowList.parse(""))
    await check_destination("http://10.1.2.3/hook", AllowList.parse("10.1.0.0/16"))
    await check_destination("http://localhost:9000/", AllowList.parse("hooks.internal, localhost"))
    with pytest.raises(SendError):
        await check_destination("http://10.2.0.1/hook", AllowList.parse("10.1.0.0/16"))


async def test_a_webhook_to_loopback_is_refused_and_never_called(
    committed_engine: Engine, settings: Settings, receiver: tuple[str, list[dict[str, Any]]]
) -> None:
    url, calls = receiver
    clock = FrozenClock()
    with session_scope(committed_engine) as session:
        lea = add_contact(session)
        queue(
            session, clock, lea, key="w", channel="webhook", payload={"url": url, "method": "POST"}
        )

    assert await drain(committed_engine, clock, settings) == {"failed": 1}

    assert calls == []
    row = outbox(committed_engine)["w"]
    assert (row.last_error or "").startswith("Refused: 127.0.0.1 points to a private")


async def test_a_webhook_posts_its_json_body_template_with_an_idempotency_key(
    committed_engine: Engine, settings: Settings, receiver: tuple[str, list[dict[str, Any]]]
) -> None:
    url, calls = receiver
    clock = FrozenClock()
    body = (
        '{"email": {{ contact.email | tojson }}, "total": {{ event.properties.total }}, '
        '"name": {{ contact.first_name | tojson }}}'
    )
    with session_scope(committed_engine) as session:
        lea = add_contact(session, first_name='Léa "the best"')
        payload = {"url": url + "/crm", "method": "POST", "body": body, "event": {"total": 42.5}}
        queue(session, clock, lea, key="9:hook:2", channel="webhook", payload=payload)
        default = {"url": url + "/plain", "method": "PUT", "body": None, "event": {"a": 1}}
        queue(session, clock, lea, key="9:hook:3", channel="webhook", payload=default)
    allowed = with_settings(settings, webhook_allow="127.0.0.1")

    assert await drain(committed_engine, clock, allowed) == {"sent": 2}

    by_path = {call["path"]: call for call in calls}
    crm = by_path["/crm"]
    assert crm["body"] == {"email": "lea@example.com", "total": 42.5, "name": 'Léa "the best"'}
    assert crm["headers"]["Idempotency-Key"] == "9:hook:2"
    assert crm["headers"]["Content-Type"] == "application/json"
    plain = by_path["/plain"]
    assert plain["method"] == "PUT"
    assert plain["body"]["contact"]["email"] == "lea@example.com"
    assert plain["body"]["event"] == {"name": None, "properties": {"a": 1}}


async def test_webhook_errors_retry_when_temporary_and_fail_otherwise(
    committed_engine: Engine, settings: Settings, receiver: tuple[str, list[dict[str, Any]]]
) -> None:
    url, _ = receiver
    clock = FrozenClock()
    with session_scope(committed_engine) as session:
        lea = add_contact(session)
        for name in ("fail", "bad", "moved"):
            payload = {"url": f"{url}/{name}", "method": "POST"}
            queue(session, clock, lea, key=name, channel="webhook", payload=payload)
        bad_json = {"url": url, "method": "POST", "body": '{"email": {{ contact.email }}}'}
        queue(session, clock, lea, key="json", channel="webhook", payload=bad_json)

    await drain(committed_engine, clock, with_settings(settings, webhook_allow="127.0.0.1"))

    rows = outbox(committed_engine)
    assert (rows["fail"].status, rows["fail"].last_error) == (
        "pending",
        "The webhook answered 503: no",
    )
    assert (rows["bad"].status, rows["bad"].last_error) == (
        "failed",
        "The webhook answered 400 (not retried): no",
    )
    assert rows["moved"].status == "failed", "redirects are not followed"
    assert rows["json"].status == "failed"
    assert "not valid JSON" in (rows["json"].last_error or "")


async def test_a_webhook_that_does_not_answer_in_time_is_retried() -> None:
    def hang(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("no answer", request=request)

    sender = WebhookSender(AllowList.parse(""), transport=httpx.MockTransport(hang))
    with pytest.raises(SendError) as error:
        await sender.call(WebhookCall("https://93.184.216.34/x", "POST", {}, "k"))
    await sender.close()
    assert not error.value.permanent
    assert error.value.reason == "The webhook did not answer in time"


async def test_notify_team_sends_a_personalised_internal_email_without_consent(
    committed_engine: Engine, settings: Settings
) -> None:
    clock = FrozenClock()
    with session_scope(committed_engine) as session:
        lead = add_contact(session, email="hot@lead.example", score=55, email_consent=False)
        payload = {
            "to": "sales@shop.example",
            "message": "Hot lead: {{ contact.email }} reached {{ contact.score }} points",
            "event": {},
        }
        queue(session, clock, lead, key="n", channel="notify", payload=payload)
        queue(
            session,
            clock,
            lead,
            key="bad",
            channel="notify",
            payload={"to": "nobody", "message": "x"},
        )

    await drain(committed_engine, clock, settings)

    [alert] = mailbox(committed_engine)
    assert alert.to_address == "sales@shop.example"
    assert alert.subject == "Parcours alert: Hot lead: hot@lead.example reached 55 points"
    assert alert.text == "Hot lead: hot@lead.example reached 55 points"
    assert outbox(committed_engine)["bad"].status == "failed"


async def test_the_sms_provider_adapter_posts_json_and_classifies_answers(
    committed_engine: Engine, settings: Settings
) -> None:
    """The provider is a third-party API outside the machine: stood in by httpx's transport."""
    seen: list[httpx.Request] = []

    def provider(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        to = json.loads(request.content)["to"]
        if to.endswith("0"):
            return httpx.Response(503, text="busy")
        if to.endswith("1"):
            return httpx.Response(400, text="invalid number")
        return httpx.Response(202, json={"id": "abc"})

    clock = FrozenClock()
    with session_scope(committed_engine) as session:
        add_template(session, "promo-sms", channel="sms", text="Hi {{ contact.first_name }}!")
        for phone in ("+33600000000", "+33600000001", "+33600000002"):
            contact = add_contact(session, email=f"{phone}@example.com", phone=phone)
            queue(
                session, clock, contact, key=phone, channel="sms", payload={"message": "promo-sms"}
            )
    configured = with_settings(
        settings,
        sms_provider_url="https://user:p%40ss@sms.example/send",
        sms_provider_token="",
        sms_from="Shop",
    )

    result = await drain(
        committed_engine, clock, configured, sms_transport=httpx.MockTransport(provider)
    )

    assert result == {"retry": 1, "failed": 1, "sent": 1}
    rows = outbox(committed_engine)
    assert rows["+33600000001"].last_error == "The SMS provider answered 400: invalid number"
    assert rows["+33600000000"].status == "pending"
    request = seen[-1]
    assert str(request.url) == "https://sms.example/send"
    assert request.headers["Authorization"] == "Basic dXNlcjpwQHNz"  # user:p@ss
    assert json.loads(request.content) == {
        "to": "+33600000002",
        "from": "Shop",
        "text": "Hi Léa!",
        "reference": "+33600000002",
    }
    assert mailbox(committed_engine) == [], "a provider sends for real: no mailbox copy"
