"""Crashes, a lost Redis and duplicate work end with every contact in a final state and
at most one message per (enrollment, block). Real worker processes, real Redis."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from redis import Redis
from sqlalchemy import Engine, func, insert, select, text
from sqlmodel import Session

from app.db import read_only, session_scope
from app.models import (
    Contact,
    Enrollment,
    EnrollmentState,
    Event,
    MessageTemplate,
    OutboxMessage,
    StepLog,
)
from app.services.scenarios import scenarios
from tests.reliability.workers import running_workers, wait_until

pytestmark = pytest.mark.reliability

CONTACTS = 1500
JOURNEY: dict[str, Any] = {
    "schema": 1,
    "nodes": [
        {"id": "buy", "type": "trigger", "kind": "event", "config": {"event": "purchase"}},
        {"id": "thanks", "type": "action", "kind": "send_email", "config": {"message": "thanks"}},
        {"id": "pause", "type": "delay", "kind": "wait", "config": {"seconds": 1}},
        {"id": "points", "type": "action", "kind": "add_score", "config": {"points": 1}},
    ],
    "edges": [
        {"from": "buy", "to": "thanks"},
        {"from": "thanks", "to": "pause"},
        {"from": "pause", "to": "points"},
    ],
    "settings": {"reentry": "once"},
}


def prepare(engine: Engine, contacts: int = CONTACTS) -> int:
    now = datetime.now(UTC)
    with session_scope(engine) as session:
        session.add(MessageTemplate(key="thanks", name="Thanks", subject="Thank you"))
        session.flush()
        scenario = scenarios.create_scenario(session, name="Thanks", graph=JOURNEY, now=now)
        scenarios.activate(session, scenario.id, now=now)  # type: ignore[arg-type]
        people = [{"email": f"r{i}@example.com", "email_consent": True, "attributes": {},
                   "timezone": "UTC", "score": 0, "sms_consent": False,
                   "created_at": now, "updated_at": now} for i in range(contacts)]  # fmt: skip
        session.execute(insert(Contact), people)
        ids = session.execute(select(Contact.id)).scalars().all()
        session.execute(
            insert(Event),
            [{"uid": uuid.uuid4().hex, "contact_id": cid, "name": "purchase", "properties": {},
              "occurred_at": now, "received_at": now} for cid in ids],
        )  # fmt: skip
        assert scenario.id is not None
        return scenario.id


def count(engine: Engine, query: Any) -> int:
    with Session(read_only(engine)) as session:
        return int(session.execute(query).scalar_one())


def finished(engine: Engine) -> int:
    terminal = [EnrollmentState.completed, EnrollmentState.exited, EnrollmentState.failed]
    return count(
        engine,
        select(func.count()).select_from(Enrollment).where(Enrollment.state.in_(terminal)),  # type: ignore[attr-defined]
    )


def assert_everyone_done_once(engine: Engine, contacts: int = CONTACTS) -> None:
    assert finished(engine) == contacts
    with Session(read_only(engine)) as session:
        states = session.execute(
            select(Enrollment.state, func.count()).group_by(Enrollment.state)
        ).all()
        assert dict(states) == {"completed": contacts}
        per_block = session.execute(
            select(OutboxMessage.enrollment_id, OutboxMessage.node_id, func.count())
            .group_by(OutboxMessage.enrollment_id, OutboxMessage.node_id)
            .having(func.count() > 1)
        ).all()
        assert per_block == [], "a block queued the same message twice"
        assert count(engine, select(func.count()).select_from(OutboxMessage)) == contacts
        scores = session.execute(select(Contact.score, func.count()).group_by(Contact.score)).all()
        assert dict(scores) == {1: contacts}, "a step ran twice"
        steps = session.execute(text("SELECT count(*) FROM step_log")).scalar_one()
        assert steps == contacts * 5  # buy, thanks, pause (parked), pause (woke), points


@pytest.fixture
def flushed_redis(redis_url: str) -> Redis:  # type: ignore[type-arg]
    client = Redis.from_url(redis_url)
    client.flushdb()
    return client


def test_a_worker_killed_three_times_mid_run_loses_nothing_and_repeats_nothing(
    committed_engine: Engine, database_url: str, redis_url: str, flushed_redis, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    prepare(committed_engine)
    with running_workers(database_url, redis_url, tmp_path) as workers:
        workers.start(2)
        for kill in range(3):
            progress = count(committed_engine, select(func.count()).select_from(StepLog))
            wait_until(
                lambda p=progress: (
                    count(committed_engine, select(func.count()).select_from(StepLog)) > p + 300
                ),
                f"progress before kill {kill + 1}",
            )
            workers.kill_one()
            workers.start(1)
        wait_until(lambda: finished(committed_engine) == CONTACTS, "every journey to end")

    assert_everyone_done_once(committed_engine)


def test_redis_wiped_mid_run_with_contacts_waiting_and_jobs_queued(
    committed_engine: Engine, database_url: str, redis_url: str, flushed_redis, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    prepare(committed_engine)
    with running_workers(database_url, redis_url, tmp_path) as workers:
        workers.start(1)
        waiting = select(func.count()).select_from(Enrollment).where(Enrollment.state == "waiting")  # type: ignore[arg-type]
        wait_until(lambda: count(committed_engine, waiting) > 0, "contacts parked on the wait")
        flushed_redis.flushdb()
        wait_until(lambda: finished(committed_engine) == CONTACTS, "every journey to end")

    assert_everyone_done_once(committed_engine)


def test_the_same_chunk_run_twice_at_once_moves_each_contact_once(
    committed_engine: Engine,
) -> None:
    import threading

    from app.clock import SystemClock
    from worker.engine.advance import advance_chunk
    from worker.engine.book import StaleChunk
    from worker.engine.plans import Plans
    from worker.engine.triggers import match_events

    prepare(committed_engine, contacts=600)
    plans, clock = Plans(), SystemClock()
    with session_scope(committed_engine) as session:
        while match_events(session, plans, clock.now()):
            pass
    errors: list[BaseException] = []

    def run() -> None:
        try:
            while True:
                try:
                    with session_scope(committed_engine) as session:
                        if advance_chunk(session, plans, clock.now(), 100) is None:
                            return
                except StaleChunk:
                    continue
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    with Session(read_only(committed_engine)) as session:
        assert session.execute(select(func.count()).select_from(OutboxMessage)).scalar_one() == 600
        duplicated = session.execute(
            select(StepLog.enrollment_id, StepLog.node_id, StepLog.outcome, func.count())
            .group_by(StepLog.enrollment_id, StepLog.node_id, StepLog.outcome)
            .having(func.count() > 1)
        ).all()
        assert duplicated == []
