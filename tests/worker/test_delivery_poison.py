"""One bad row never stops delivery: it fails alone, with its reason, and the drain lets go
of its lease whatever happens."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from app.clock import FrozenClock
from app.config import Settings
from app.db import create_db_engine, session_scope
from app.services.insights.stats import period, scenario_report
from app.services.messaging.mailbox import recent_problems
from tests.fixtures.smtp import SmtpSink
from tests.worker.delivery_kit import add_contact, add_template, drain, outbox, queue, with_settings
from worker.delivery.lease import LEASE_KEY

POISONED_TEMPLATES = {
    "format": ("<p>{{ '{0}'.format() }}</p>", "a placeholder asks for a value that is not there"),
    "mapping": ("<p>{{ 'Hi %(first_name)s' % contact }}</p>", "the value 'first_name' is missing"),
    "recursive macro": (
        "{% macro again() %}{{ again() }}{% endmacro %}<p>{{ again() }}</p>",
        "calls itself without end",
    ),
}


OVER_BUDGET = {
    "text": (
        "{% for i in range(5000) %}<p>{{ 'x' * 300 }}</p>{% endfor %}",
        "produces too much text",
    ),
    "rounds": (
        "{% for i in range(1000) %}{% for j in range(1000) %}{% endfor %}{% endfor %}",
        "repeats its loops too many times",
    ),
    "width": ("<p>{{ '{:>500000}'.format(contact.first_name) }}</p>", "pads, aligns or indents"),
    "time": (
        "{% macro twice(n) %}{% if n %}{{ twice(n - 1) }}{{ twice(n - 1) }}{% endif %}"
        "{% endmacro %}{{ twice(40) }}",
        "takes too long to fill in (over 2 seconds)",
    ),
}


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[str]]]:
    """A local HTTP receiver for webhooks, recording the paths it was called on."""
    paths: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            paths.append(self.path)
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", paths
    server.shutdown()
    server.server_close()


async def lease_is_free(redis: Any) -> bool:
    # Released: left to expire within one rate window, not held for its two-minute term.
    return await redis.get(LEASE_KEY) is None or await redis.pttl(LEASE_KEY) < 2_000


@pytest.mark.parametrize("kind", POISONED_TEMPLATES)
async def test_a_template_that_fails_at_send_time_fails_its_own_row_and_the_good_one_is_sent(
    kind: str, committed_engine: Engine, settings: Settings, smtp_sink: SmtpSink, redis: Any
) -> None:
    source, reason = POISONED_TEMPLATES[kind]
    clock = FrozenClock()
    with session_scope(committed_engine) as session:
        add_template(session, "poisoned", html=source, text="")
        add_template(session, "cart")
        nameless = add_contact(session, email="nameless@example.com", first_name=None)
        lea = add_contact(session, email="lea@example.com")
        queue(session, clock, nameless, key="poisoned", payload={"message": "poisoned"})
        queue(session, clock, lea, key="good")
    smtp = with_settings(settings, smtp_url=smtp_sink.url)

    assert await drain(committed_engine, clock, smtp, redis=redis) == {"failed": 1, "sent": 1}

    rows = outbox(committed_engine)
    assert rows["good"].status == "sent"
    assert [to for _, to in smtp_sink.envelopes] == [["lea@example.com"]]
    poisoned = rows["poisoned"]
    assert poisoned.status == "failed", "retrying cannot help a broken template"
    assert (poisoned.last_error or "").startswith("Not sent: the HTML body could not be filled in")
    assert reason in (poisoned.last_error or "")
    assert await lease_is_free(redis)


@pytest.mark.parametrize("kind", OVER_BUDGET)
async def test_a_template_over_its_budget_fails_its_own_row_and_the_good_one_is_sent(
    kind: str, committed_engine: Engine, settings: Settings, smtp_sink: SmtpSink
) -> None:
    source, words = OVER_BUDGET[kind]
    clock = FrozenClock()
    with session_scope(committed_engine) as session:
        add_template(session, "heavy", html=source, text="")  # saved before the budget existed
        add_template(session, "cart")
        lea = add_contact(session)
        queue(session, clock, lea, key="heavy", payload={"message": "heavy"})
        queue(session, clock, lea, key="good")
    smtp = with_settings(settings, smtp_url=smtp_sink.url)

    assert await drain(committed_engine, clock, smtp) == {"failed": 1, "sent": 1}

    rows = outbox(committed_engine)
    assert rows["good"].status == "sent"
    assert len(smtp_sink.messages) == 1
    assert rows["heavy"].status == "failed"
    assert (rows["heavy"].last_error or "").startswith(f"Not sent: the HTML body {words}")


async def test_the_reason_of_a_failed_send_shows_in_the_mailbox_and_the_block_statistics(
    committed_engine: Engine, settings: Settings
) -> None:
    clock = FrozenClock()
    with session_scope(committed_engine) as session:
        add_template(session, "poisoned", html="<p>{{ '{0}'.format() }}</p>", text="")
        queue(session, clock, add_contact(session), key="p", payload={"message": "poisoned"})

    await drain(committed_engine, clock, settings)

    with session_scope(committed_engine) as session:
        row = outbox(committed_engine)["p"]
        reason = row.last_error
        [problem] = recent_problems(session)
        assert (problem.status, problem.reason) == ("failed", reason)
        scenario_id = row.scenario_id or 0
        today = clock.now().date()
        report = scenario_report(session, scenario_id, None, period("", "", today))
    [failure] = report.failures
    assert (failure.node_id, failure.reason, failure.count) == ("send", reason, 1)


async def test_a_webhook_body_that_fails_to_fill_in_fails_alone(
    committed_engine: Engine,
    settings: Settings,
    smtp_sink: SmtpSink,
    redis: Any,
    receiver: tuple[str, list[str]],
) -> None:
    url, paths = receiver
    clock = FrozenClock()
    with session_scope(committed_engine) as session:
        add_template(session, "cart")
        lea = add_contact(session)
        broken = {"url": f"{url}/broken", "method": "POST", "body": '{"n": {{ "{0}".format() }}}'}
        too_deep = {"url": f"{url}/deep", "method": "POST", "body": "[" * 100_000}
        good = {
            "url": f"{url}/good",
            "method": "POST",
            "body": '{"email": {{ contact.email|tojson }}}',
        }
        queue(session, clock, lea, key="broken", channel="webhook", payload=broken)
        queue(session, clock, lea, key="deep", channel="webhook", payload=too_deep)
        queue(session, clock, lea, key="good-hook", channel="webhook", payload=good)
        queue(session, clock, lea, key="email")
    allowed = with_settings(settings, smtp_url=smtp_sink.url, webhook_allow="127.0.0.1")

    assert await drain(committed_engine, clock, allowed, redis=redis) == {"failed": 2, "sent": 2}

    rows = outbox(committed_engine)
    assert paths == ["/good"]
    assert [to for _, to in smtp_sink.envelopes] == [["lea@example.com"]]
    assert rows["broken"].status == "failed"
    assert (rows["broken"].last_error or "").startswith(
        "Not sent: the webhook body could not be filled in: a placeholder asks for a value"
    )
    assert rows["deep"].status == "failed"
    assert rows["deep"].last_error == "The webhook body nests its JSON too deeply once filled in."
    assert await lease_is_free(redis)


async def test_a_webhook_address_with_an_impossible_port_fails_alone(
    committed_engine: Engine, settings: Settings, receiver: tuple[str, list[str]]
) -> None:
    url, paths = receiver
    clock = FrozenClock()
    with session_scope(committed_engine) as session:
        lea = add_contact(session)
        impossible = {"url": "http://127.0.0.1:99999/hook", "method": "POST"}
        queue(session, clock, lea, key="impossible", channel="webhook", payload=impossible)
        good = {"url": f"{url}/good", "method": "POST"}
        queue(session, clock, lea, key="good", channel="webhook", payload=good)
    allowed = with_settings(settings, webhook_allow="127.0.0.1")

    assert await drain(committed_engine, clock, allowed) == {"failed": 1, "sent": 1}

    row = outbox(committed_engine)["impossible"]
    assert (row.status, row.last_error) == (
        "failed",
        "The webhook address has an impossible port: http://127.0.0.1:99999/hook",
    )
    assert paths == ["/good"]


async def test_an_error_no_one_foresaw_while_sending_retries_that_row_only(
    committed_engine: Engine, settings: Settings, smtp_sink: SmtpSink, redis: Any
) -> None:
    # An SMS provider set up with a port that cannot exist: its client raises an error of
    # its own kind (not one of the refusals the sender knows), without any traffic.
    clock = FrozenClock()
    with session_scope(committed_engine) as session:
        add_template(session, "cart")
        add_template(session, "promo-sms", channel="sms", text="Hi {{ contact.first_name }}!")
        lea = add_contact(session)
        queue(session, clock, lea, key="sms", channel="sms", payload={"message": "promo-sms"})
        queue(session, clock, lea, key="email")
    odd = with_settings(
        settings, smtp_url=smtp_sink.url, sms_provider_url="http://127.0.0.1:99999/send"
    )

    assert await drain(committed_engine, clock, odd, redis=redis) == {"retry": 1, "sent": 1}

    rows = outbox(committed_engine)
    assert rows["email"].status == "sent"
    sms = rows["sms"]
    assert sms.status == "pending", "tried again later, as the cause may pass"
    assert (sms.last_error or "").startswith(
        "This message could not be sent because of an unexpected error:"
    )
    assert await lease_is_free(redis)


async def test_the_lease_is_let_go_when_the_drain_itself_fails(
    database_url: str, settings: Settings, redis: Any, tmp_path: Path
) -> None:
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        broken = f"sqlite:///{tmp_path / 'no-such-folder' / 'parcours.db'}"
    else:
        broken = url.set(database="parcours_no_such_database").render_as_string(False)
    unreachable = create_db_engine(broken)
    try:
        with pytest.raises(OperationalError):
            await drain(unreachable, FrozenClock(), settings, redis=redis)
    finally:
        unreachable.dispose()

    assert await lease_is_free(redis)
