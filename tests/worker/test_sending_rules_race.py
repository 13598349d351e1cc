"""Two delivery workers draining at once never let a send through a cap that is full: the
count and the claim are one transaction, and two claims never count one contact at once."""

from __future__ import annotations

import asyncio
from collections import Counter

from sqlalchemy import Engine
from sqlmodel import select

from app.clock import FrozenClock
from app.config import Settings
from app.db import session_scope
from app.models import MailboxMessage
from tests.worker.delivery_kit import add_contact, add_template, drain, with_settings
from tests.worker.pacing_kit import rules, scenario, send

CONTACTS, SENDS_EACH, CAP = 12, 6, 3


async def test_two_workers_at_once_never_let_a_fourth_email_through_a_cap_of_three(
    committed_engine: Engine, settings: Settings
) -> None:
    clock = FrozenClock()
    with session_scope(committed_engine) as session:
        rules(session, caps=[{"channel": "email", "max": CAP, "per_days": 7}])
        add_template(session)
        flows = [scenario(session, f"Scenario {n}") for n in range(3)]
        for n in range(CONTACTS):
            contact = add_contact(session, email=f"c{n}@example.com")
            for k in range(SENDS_EACH):
                send(session, clock, flows[k % 3], contact, key=f"{n}:{k}", node=f"send{k}")
    # Small chunks, so both workers claim over and over, the same contacts among them.
    small = with_settings(settings, delivery_chunk_size=5)

    first, second = await asyncio.gather(
        drain(committed_engine, clock, small), drain(committed_engine, clock, small)
    )

    with session_scope(committed_engine) as session:
        sent = Counter(m.contact_id for m in session.exec(select(MailboxMessage)).all())
    assert [bool(first.get("sent")), bool(second.get("sent"))] == [True, True], "both sent"
    assert max(sent.values()) == CAP
    assert sum(sent.values()) == CONTACTS * CAP
