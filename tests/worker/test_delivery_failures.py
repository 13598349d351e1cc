"""Temporary SMTP failures are retried with backoff; permanent ones fail with the reason."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import Engine

from app.clock import FrozenClock
from app.config import Settings
from app.db import session_scope
from tests.worker.delivery_kit import add_contact, add_template, drain, outbox, queue, with_settings


class PickyServer:
    """Accepts everyone but busy@ (451, try later) and gone@ (550, no such user)."""

    def __init__(self) -> None:
        self.accepted: list[list[str]] = []

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address.startswith("busy@"):
            return "451 4.3.0 Mailbox busy, try again later"
        if address.startswith("gone@"):
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.accepted.append(list(envelope.rcpt_tos))
        return "250 Message accepted"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def picky() -> Iterator[tuple[PickyServer, str]]:
    handler, port = PickyServer(), _free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield handler, f"smtp://127.0.0.1:{port}"
    controller.stop()


async def test_a_4xx_is_retried_later_and_a_5xx_fails_with_the_servers_reason(
    committed_engine: Engine, settings: Settings, picky: tuple[PickyServer, str]
) -> None:
    server, url = picky
    clock = FrozenClock()
    with session_scope(committed_engine) as session:
        add_template(session)
        for name in ("busy", "gone", "ok"):
            queue(session, clock, add_contact(session, email=f"{name}@example.com"), key=name)
    smtp = with_settings(settings, smtp_url=url)

    assert await drain(committed_engine, clock, smtp) == {"retry": 1, "failed": 1, "sent": 1}

    rows = outbox(committed_engine)
    assert rows["ok"].status == "sent"
    assert server.accepted == [["ok@example.com"]]
    assert rows["gone"].status == "failed"
    assert rows["gone"].last_error == ("The mail server refused it: 550 5.1.1 No such user here")
    busy = rows["busy"]
    assert busy.status == "pending"
    assert (
        busy.last_error
        == "The mail server said to try later: 451 4.3.0 Mailbox busy, try again later"
    )
    assert busy.next_attempt_at == clock.now() + timedelta(minutes=1)

    assert await drain(committed_engine, clock, smtp) == {}, "not due before its backoff"
    clock.advance(minutes=1)
    await drain(committed_engine, clock, smtp)
    busy = outbox(committed_engine)["busy"]
    assert (busy.attempts, busy.next_attempt_at) == (2, clock.now() + timedelta(minutes=2))


async def test_it_gives_up_after_the_last_attempt(
    committed_engine: Engine, settings: Settings, picky: tuple[PickyServer, str]
) -> None:
    _, url = picky
    clock = FrozenClock()
    with session_scope(committed_engine) as session:
        add_template(session)
        queue(session, clock, add_contact(session, email="busy@example.com"), key="busy")
    smtp = with_settings(settings, smtp_url=url, delivery_max_attempts=3)

    for _ in range(5):
        await drain(committed_engine, clock, smtp)
        clock.advance(hours=1)

    row = outbox(committed_engine)["busy"]
    assert (row.status, row.attempts) == ("failed", 3)
    assert (row.last_error or "").startswith("Gave up after 3 tries: The mail server said")


async def test_an_unreachable_server_is_a_temporary_failure(
    committed_engine: Engine, settings: Settings
) -> None:
    clock = FrozenClock()
    with session_scope(committed_engine) as session:
        add_template(session)
        queue(session, clock, add_contact(session), key="k")

    nobody = with_settings(settings, smtp_url=f"smtp://127.0.0.1:{_free_port()}")
    assert await drain(committed_engine, clock, nobody) == {"retry": 1}

    row = outbox(committed_engine)["k"]
    assert row.status == "pending"
    assert (row.last_error or "").startswith("Could not connect to the mail server")


async def test_a_crashed_worker_s_rows_come_back_when_their_lease_runs_out(
    committed_engine: Engine, settings: Settings
) -> None:
    from worker.delivery.store import claim_due

    clock = FrozenClock()
    with session_scope(committed_engine) as session:
        add_template(session)
        queue(session, clock, add_contact(session), key="k")

    claimed = claim_due(committed_engine, clock.now(), 10, timedelta(minutes=2))  # then "dies"
    assert [c.key for c in claimed] == ["k"]
    assert claim_due(committed_engine, clock.now(), 10, timedelta(minutes=2)) == []

    clock.advance(minutes=2)
    assert await drain(committed_engine, clock, settings) == {"sent": 1}
    assert outbox(committed_engine)["k"].attempts == 2
