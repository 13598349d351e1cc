"""The outbox from the sender's side: claiming due rows, writing outcomes back.

Claiming is one short transaction per chunk: due ``pending`` rows get their
``next_attempt_at`` pushed one lease into the future and ``attempts`` + 1, and come back
through ``RETURNING``. Rows leased by a worker are no longer due, so no other worker takes
them; PostgreSQL skips rows another claim is locking (``FOR UPDATE SKIP LOCKED``), SQLite
serialises writers (``BEGIN IMMEDIATE``). If the worker dies, the lease runs out and the
rows are due again. The sending rules are applied in the same transaction (``pacing.py``):
a marketing send in quiet hours or over a cap is given its new due time there and is not
returned.

Outcomes are written in bulk, one transaction per batch of sends, never one per message.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, or_, select, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel

from app.db import session_scope
from app.models import OutboxStatus
from app.services.messaging import bounces, sending_rules
from app.services.messaging.mailbox import store as store_mailbox
from worker.delivery.outcomes import Outcome
from worker.delivery.pacing import PACED_CHANNELS, Candidate, pace
from worker.engine.book import CounterKey

OUTBOX = SQLModel.metadata.tables["outbox"]
MAX_BACKOFF = timedelta(hours=6)


@dataclass(frozen=True)
class Claimed:
    id: int
    key: str
    channel: str
    contact_id: int | None
    scenario_id: int | None
    node_id: str | None
    payload: dict[str, Any]
    attempts: int  # including this one
    enrollment_id: int | None = None
    counted: bool = False  # let through under the frequency caps already (pacing)
    held_since: datetime | None = None


def _candidates(rows: list[Claimed]) -> list[Candidate]:
    """The claimed messages to a contact the sending rules may hold (tests sends never)."""
    return [
        Candidate(
            id=r.id,
            channel=r.channel,
            contact_id=r.contact_id,
            scenario_id=r.scenario_id,
            node_id=r.node_id,
            enrollment_id=r.enrollment_id,
            message=str(r.payload.get("message")),
            counted=r.counted,
            held_since=r.held_since,
        )
        for r in rows
        if r.channel in PACED_CHANNELS and r.contact_id is not None and not r.payload.get("test")
    ]


HELD_ROUNDS = 10  # whole chunks held back in a row before the drain lets the sweep go on


def claim_due(
    engine: Engine,
    now: datetime,
    limit: int,
    lease: timedelta,
    held: Counter[CounterKey] | None = None,
) -> list[Claimed]:
    """Claims up to ``limit`` due rows and returns those that may be sent now; ``held``
    gathers the ``deferred`` counts of the blocks whose sends were held for the first time.

    A chunk the sending rules held back entirely (a night's newsletter) is not the end of
    what is due: the next one is claimed at once, so sends behind it are not kept waiting."""
    for _round in range(HELD_ROUNDS):
        claimed, any_due = _claim_once(engine, now, limit, lease, held)
        if claimed or not any_due:
            return claimed
    return []


def _claim_once(
    engine: Engine,
    now: datetime,
    limit: int,
    lease: timedelta,
    held: Counter[CounterKey] | None,
) -> tuple[list[Claimed], bool]:
    with session_scope(engine) as session:
        due = (
            select(OUTBOX.c.id)
            .where(
                OUTBOX.c.status == OutboxStatus.pending.value,
                or_(OUTBOX.c.next_attempt_at.is_(None), OUTBOX.c.next_attempt_at <= now),
            )
            .order_by(OUTBOX.c.next_attempt_at, OUTBOX.c.id)
            .limit(limit)
        )
        if session.get_bind().dialect.name == "postgresql":
            due = due.with_for_update(skip_locked=True)
        rows = session.execute(
            update(OUTBOX)
            .where(OUTBOX.c.id.in_(due.scalar_subquery()))
            .values(next_attempt_at=now + lease, attempts=OUTBOX.c.attempts + 1)
            .returning(
                OUTBOX.c.id,
                OUTBOX.c.idempotency_key,
                OUTBOX.c.channel,
                OUTBOX.c.contact_id,
                OUTBOX.c.scenario_id,
                OUTBOX.c.node_id,
                OUTBOX.c.payload,
                OUTBOX.c.attempts,
                OUTBOX.c.enrollment_id,
                OUTBOX.c.counted_at,
                OUTBOX.c.held_since,
            )
        ).all()
        claimed = [_claimed(row) for row in rows]
        rules = sending_rules.load(session) if claimed else None
        if rules is not None and not rules.empty:
            paced = pace(session, _candidates(claimed), now, rules)
            held_back = set(paced.held) | paced.capped
            claimed = [c for c in claimed if c.id not in held_back]
            if held is not None:
                held.update(paced.first_held)
    return sorted(claimed, key=lambda c: c.id), bool(rows)


def _claimed(row: Any) -> Claimed:
    return Claimed(
        id=row.id,
        key=row.idempotency_key,
        channel=row.channel,
        contact_id=row.contact_id,
        scenario_id=row.scenario_id,
        node_id=row.node_id,
        payload=row.payload or {},
        attempts=row.attempts,
        enrollment_id=row.enrollment_id,
        counted=row.counted_at is not None,
        held_since=row.held_since,
    )


def release(engine: Engine, ids: list[int], now: datetime) -> None:
    """Gives claimed rows back (due now, the claim not counted as an attempt)."""
    if not ids:
        return
    with session_scope(engine) as session:
        session.execute(
            update(OUTBOX)
            .where(OUTBOX.c.id.in_(ids), OUTBOX.c.status == OutboxStatus.pending.value)
            .values(next_attempt_at=now, attempts=OUTBOX.c.attempts - 1)
        )


def backoff(attempts: int) -> timedelta:
    """1 min, 2, 4, 8 … capped at six hours."""
    return min(MAX_BACKOFF, timedelta(minutes=2 ** max(0, attempts - 1)))


def record(
    engine: Engine,
    outcomes: Sequence[Outcome],
    claimed: dict[int, Claimed],
    now: datetime,
    max_attempts: int,
) -> None:
    """Writes the outcomes (and the mailbox copies) in one transaction."""
    if not outcomes:
        return
    with session_scope(engine) as session:
        write_outcomes(session, outcomes, claimed, now, max_attempts)


def write_outcomes(
    session: Session,
    outcomes: Sequence[Outcome],
    claimed: dict[int, Claimed],
    now: datetime,
    max_attempts: int,
) -> None:
    done = [{"b_id": o.row_id, "b_now": now} for o in outcomes if o.kind == "sent"]
    others: list[dict[str, Any]] = []
    for o in outcomes:
        if o.kind == "sent":
            continue
        attempts = claimed[o.row_id].attempts
        status: str = o.kind
        due: datetime | None = None
        if o.kind == "retry" and attempts >= max_attempts:
            status = o.kind = "failed"
            o.reason = f"Gave up after {attempts} tries: {o.reason}"
        elif o.kind == "retry":
            status, due = OutboxStatus.pending.value, now + backoff(attempts)
        others.append({"b_id": o.row_id, "b_status": status, "b_due": due, "b_error": o.reason})
    if done:
        # Unconditional: the message did leave, even if an unsubscribe cancelled it meanwhile.
        session.execute(
            update(OUTBOX)
            .where(OUTBOX.c.id == bindparam("b_id"))
            .values(status="sent", sent_at=bindparam("b_now"), last_error=None),
            done,
        )
    if others:
        # Only rows still pending: a cancellation that came in meanwhile stays.
        session.execute(
            update(OUTBOX)
            .where(and_(OUTBOX.c.id == bindparam("b_id"), OUTBOX.c.status == "pending"))
            .values(
                status=bindparam("b_status"),
                next_attempt_at=bindparam("b_due"),
                last_error=bindparam("b_error"),
            ),
            others,
        )
    store_mailbox(session, [o.mailbox for o in outcomes if o.mailbox is not None])
    _what_addresses_did(session, outcomes, claimed, now)


def _what_addresses_did(
    session: Session, outcomes: Sequence[Outcome], claimed: dict[int, Claimed], now: datetime
) -> None:
    """Refusals about a contact's address mark it (``bounces.py``): a hard one at once, a
    soft one once its send is given up on; a message through starts the soft count again.
    Test sends and team alerts go to other addresses than the contact's: never counted."""
    hard: list[bounces.Mark] = []
    soft: list[bounces.Mark] = []
    delivered: set[int] = set()
    for o in outcomes:
        row = claimed.get(o.row_id)
        if row is None or row.channel != "email" or row.contact_id is None:
            continue
        if row.payload.get("test"):
            continue
        if o.kind == "sent":
            delivered.add(row.contact_id)
        elif o.kind == "failed" and o.bounce is not None and o.address:
            found = bounces.Mark(row.contact_id, o.reply or o.reason or "", o.address)
            (hard if o.bounce == "hard" else soft).append(found)
    if hard or soft or delivered:
        bounces.delivery_results(session, hard=hard, soft=soft, delivered=delivered, now=now)
