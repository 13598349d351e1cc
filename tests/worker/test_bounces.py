"""A mail server's refusal of an address marks it bounced, and it is never tried again."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import Engine, select
from sqlmodel import Session

from app.clock import FrozenClock
from app.config import Settings
from app.db import session_scope
from app.models import Contact, Event, StepLog
from app.services.messaging import not_sent
from app.services.messaging.bounces import SOFT_BOUNCE_LIMIT
from tests.worker.delivery_kit import add_contact, add_template, drain, outbox, queue, with_settings
from tests.worker.engine_harness import Engine as Harness
from tests.worker.test_engine_journeys import graph
from tests.worker.test_simulation_runs import _answer, _ask, _shop
from worker.simulation.run import run_simulation

GONE = "550 5.1.1 user unknown"
FULL = "452 4.2.2 Mailbox full"


class Refusing:
    """Takes mail for everyone but: gone@ (no such user), full@ (mailbox full, until
    ``full_emptied``), relay@ (relaying denied: about us), spammy@ (content refused at
    DATA: about us) and late@ (no such user, said at DATA by a server that takes every
    recipient first)."""

    def __init__(self) -> None:
        self.delivered: list[str] = []
        self.tried: list[str] = []
        self.full_emptied = False

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        self.tried.append(address)
        if address.startswith("gone@"):
            return GONE
        if address.startswith("full@") and not self.full_emptied:
            return FULL
        if address.startswith("relay@"):
            return "550 5.7.1 Relaying denied"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if envelope.rcpt_tos[0].startswith("spammy@"):
            return "554 5.7.1 Message rejected: it looks like spam"
        if envelope.rcpt_tos[0].startswith("late@"):
            return "550 5.1.1 The mailbox does not exist"
        self.delivered.extend(envelope.rcpt_tos)
        return "250 Message accepted"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def _server() -> Iterator[tuple[Refusing, str]]:
    handler, port = Refusing(), _free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield handler, f"smtp://127.0.0.1:{port}"
    controller.stop()


@pytest.fixture
def server(_server: tuple[Refusing, str]) -> tuple[Refusing, str]:
    handler, _url = _server
    handler.delivered.clear()
    handler.tried.clear()
    handler.full_emptied = False
    return _server


def _contact(engine: Engine, email: str) -> Contact:
    with session_scope(engine) as session:
        found = session.scalars(select(Contact).where(Contact.email == email)).one()  # type: ignore[arg-type]
        session.expunge(found)
        return found


def _events(engine: Engine, name: str) -> list[dict[str, Any]]:
    with session_scope(engine) as session:
        rows = session.scalars(select(Event).where(Event.name == name)).all()  # type: ignore[arg-type]
        return [row.properties for row in rows]


async def test_a_hard_bounce_marks_the_address_and_it_is_never_tried_again(
    committed_engine: Engine, settings: Settings, server: tuple[Refusing, str]
) -> None:
    handler, url = server
    clock = FrozenClock()
    smtp = with_settings(settings, smtp_url=url)
    with session_scope(committed_engine) as session:
        add_template(session)
        add_template(session, "receipt", purpose="transactional")
        queue(session, clock, add_contact(session, email="gone@example.com"), key="first")

    assert await drain(committed_engine, clock, smtp) == {"failed": 1}

    row = outbox(committed_engine)["first"]
    assert row.status == "failed"  # for good: not pending, no retry
    gone = _contact(committed_engine, "gone@example.com")
    assert gone.email_status == "bounced"
    assert gone.email_status_reason == GONE
    assert gone.email_status_at == clock.now()
    assert _events(committed_engine, "email_bounced") == [{"reason": GONE, "source": "smtp"}]

    # A marketing send and a transactional one later: neither reaches the server.
    clock.advance(days=1)
    with session_scope(committed_engine) as session:
        queue(session, clock, gone, key="second")
        queue(session, clock, gone, key="receipt", payload={"message": "receipt"})
    handler.tried.clear()
    assert await drain(committed_engine, clock, smtp) == {"skipped": 2}
    rows = outbox(committed_engine)
    assert rows["second"].last_error == "Not sent: the address bounced."
    assert rows["receipt"].last_error == "Not sent: the address bounced."
    assert handler.tried == []
    assert len(_events(committed_engine, "email_bounced")) == 1  # marked once


async def test_a_second_message_to_an_address_that_just_bounced_is_not_tried_in_the_same_drain(
    committed_engine: Engine, settings: Settings, server: tuple[Refusing, str]
) -> None:
    handler, url = server
    clock = FrozenClock()
    with session_scope(committed_engine) as session:
        add_template(session)
        gone = add_contact(session, email="gone@example.com")
        queue(session, clock, gone, key="first")
        queue(session, clock, gone, key="second")

    outcome = await drain(committed_engine, clock, with_settings(settings, smtp_url=url))

    assert outcome == {"failed": 1, "skipped": 1}
    assert handler.tried == ["gone@example.com"]
    assert outbox(committed_engine)["second"].last_error == "Not sent: the address bounced."


async def test_a_contact_who_complained_gets_transactional_emails_and_no_marketing(
    committed_engine: Engine, settings: Settings, server: tuple[Refusing, str]
) -> None:
    handler, url = server
    clock = FrozenClock()
    with session_scope(committed_engine) as session:
        add_template(session)
        add_template(session, "receipt", purpose="transactional")
        angry = add_contact(session, email="angry@example.com", email_status="complained")
        queue(session, clock, angry, key="offer")
        queue(session, clock, angry, key="receipt", payload={"message": "receipt"})

    outcome = await drain(committed_engine, clock, with_settings(settings, smtp_url=url))

    assert outcome == {"skipped": 1, "sent": 1}
    rows = outbox(committed_engine)
    assert rows["offer"].last_error == "Not sent: the contact marked an email as spam."
    assert rows["receipt"].status == "sent"
    assert handler.delivered == ["angry@example.com"]


async def test_a_scenario_skips_a_bounced_address_at_the_block_and_says_why(
    committed_engine: Engine, settings: Settings, server: tuple[Refusing, str]
) -> None:
    _handler, url = server
    clock = FrozenClock()
    with session_scope(committed_engine) as session:
        add_template(session)
        queue(session, clock, add_contact(session, email="gone@example.com"), key="first")
    await drain(committed_engine, clock, with_settings(settings, smtp_url=url))

    with Session(committed_engine, expire_on_commit=False) as session:
        harness = Harness(session, clock=clock)
        harness.message("welcome")
        gone = session.scalars(select(Contact).where(Contact.email == "gone@example.com")).one()  # type: ignore[arg-type]
        scenario = harness.scenario(WELCOME)
        harness.event(gone, "signed_up")
        harness.run()
        assert harness.journey(gone, scenario) == [("t", "completed"), ("send", "skipped")]
        assert harness.sent()[-1][2] == "cart"  # the first send only: nothing new queued
        step = session.scalars(select(StepLog).where(StepLog.node_id == "send")).one()  # type: ignore[arg-type]
        assert step.detail["text"] == "address bounced → not sent"
        # Counted as not sent, with its own reason, in the block's statistics.
        assert not_sent.by_block(session, scenario.id) == [not_sent.NotSent("send", "bounced", 1)]  # type: ignore[arg-type]
        session.rollback()


WELCOME = graph(
    [
        {"id": "t", "type": "trigger", "kind": "event", "config": {"event": "signed_up"}},
        {"id": "send", "type": "action", "kind": "send_email", "config": {"message": "welcome"}},
    ],
    [("t", "send")],
)


async def test_soft_bounces_are_retried_and_become_hard_after_three_sends_given_up_on(
    committed_engine: Engine, settings: Settings, server: tuple[Refusing, str]
) -> None:
    handler, url = server
    clock = FrozenClock()
    smtp = with_settings(settings, smtp_url=url, delivery_max_attempts=2)
    with session_scope(committed_engine) as session:
        add_template(session)
        full = add_contact(session, email="full@example.com")
    for number in range(1, SOFT_BOUNCE_LIMIT + 1):
        with session_scope(committed_engine) as session:
            queue(session, clock, full, key=f"send-{number}")
        assert await drain(committed_engine, clock, smtp) == {"retry": 1}  # 4xx: tried later
        assert _contact(committed_engine, "full@example.com").email_soft_bounces == number - 1
        clock.advance(minutes=2)
        assert await drain(committed_engine, clock, smtp) == {"failed": 1}
        contact = _contact(committed_engine, "full@example.com")
        if number < SOFT_BOUNCE_LIMIT:
            assert (contact.email_status, contact.email_soft_bounces) == (None, number)

    assert contact.email_status == "bounced"
    assert contact.email_status_reason == (
        f"3 sends in a row could not be delivered; the last: {FULL}"
    )
    assert handler.delivered == []


async def test_a_message_that_gets_through_starts_the_soft_count_again(
    committed_engine: Engine, settings: Settings, server: tuple[Refusing, str]
) -> None:
    handler, url = server
    clock = FrozenClock()
    smtp = with_settings(settings, smtp_url=url, delivery_max_attempts=1)
    with session_scope(committed_engine) as session:
        add_template(session)
        full = add_contact(session, email="full@example.com")
        queue(session, clock, full, key="refused")
    assert await drain(committed_engine, clock, smtp) == {"failed": 1}
    assert _contact(committed_engine, "full@example.com").email_soft_bounces == 1

    handler.full_emptied = True
    with session_scope(committed_engine) as session:
        queue(session, clock, full, key="through")
    assert await drain(committed_engine, clock, smtp) == {"sent": 1}
    contact = _contact(committed_engine, "full@example.com")
    assert (contact.email_status, contact.email_soft_bounces) == (None, 0)


async def test_a_refusal_about_us_fails_the_send_but_leaves_the_address_alone(
    committed_engine: Engine, settings: Settings, server: tuple[Refusing, str]
) -> None:
    _handler, url = server
    clock = FrozenClock()
    with session_scope(committed_engine) as session:
        add_template(session)
        for name in ("relay", "spammy", "late"):
            queue(session, clock, add_contact(session, email=f"{name}@example.com"), key=name)

    assert await drain(committed_engine, clock, with_settings(settings, smtp_url=url)) == {
        "failed": 3
    }

    assert _contact(committed_engine, "relay@example.com").email_status is None
    assert _contact(committed_engine, "spammy@example.com").email_status is None
    # 5.1.1 at DATA is still about the address (a server that checks mailboxes late).
    late = _contact(committed_engine, "late@example.com")
    assert (late.email_status, late.email_status_reason) == (
        "bounced",
        "550 5.1.1 The mailbox does not exist",
    )


async def test_a_test_send_that_bounces_marks_no_contact(
    committed_engine: Engine, settings: Settings, server: tuple[Refusing, str]
) -> None:
    _handler, url = server
    clock = FrozenClock()
    with session_scope(committed_engine) as session:
        lea = add_contact(session, email="lea@example.com")
        template = {"channel": "email", "subject": "Hi", "text": "Hello", "html": ""}
        payload = {"test": {"to": "gone@example.com", "contact_id": lea.id, "template": template}}
        queue(session, clock, lea, key="test", payload=payload)

    assert await drain(committed_engine, clock, with_settings(settings, smtp_url=url)) == {
        "failed": 1
    }
    assert _contact(committed_engine, "lea@example.com").email_status is None


def test_a_simulation_skips_bounced_and_complained_addresses_for_the_same_reasons(
    committed_engine: Engine,
) -> None:
    scenario_id = _shop(committed_engine, members=5, joined_lately=0)  # n0 has no consent
    with session_scope(committed_engine) as session:
        for email, status in (("n1@example.com", "bounced"), ("n2@example.com", "complained")):
            contact = session.scalars(select(Contact).where(Contact.email == email)).one()  # type: ignore[arg-type]
            contact.email_status = status
    simulation_id = _ask(committed_engine, scenario_id, include_existing=True)

    assert run_simulation(committed_engine, simulation_id) == "done"

    answer = _answer(committed_engine, scenario_id, simulation_id)
    # Twice each: the welcome email and the tip a day later.
    assert answer["skipped_reasons"] == {"no_consent": 2, "bounced": 2, "complained": 2}
    assert answer["nodes"]["hello"]["skipped"] == 3
