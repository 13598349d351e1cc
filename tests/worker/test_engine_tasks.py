"""The engine's arq tasks on the real queue: events in, steps run, counters hot in Redis."""

from __future__ import annotations

import json
import uuid
from datetime import UTC

import pytest
from arq.worker import Worker
from sqlalchemy import Engine, insert
from sqlmodel import Session, func, select

from app.clock import FrozenClock
from app.db import read_only, session_scope
from app.models import (
    Contact,
    ContactList,
    Enrollment,
    Event,
    MessageTemplate,
    ScenarioVersion,
    StepLog,
)
from app.queue import Queue
from app.services.scenarios import scenarios
from app.services.scenarios.stats import version_stats
from tests.worker.test_engine_journeys import LOYALTY
from worker.engine import counters
from worker.engine.tasks import recheck_counters
from worker.queue import QUEUE_NAME, redis_settings
from worker.settings import WorkerSettings


@pytest.mark.parametrize(("lanes", "chunk_size"), [(1, 2000), (3, 4)])
async def test_kicked_matcher_runs_the_journeys_and_keeps_counters_hot(
    redis_url: str,
    redis,
    committed_engine: Engine,  # type: ignore[no-untyped-def]
    lanes: int,
    chunk_size: int,
) -> None:
    """Also with lanes side by side taking small batches: each journey runs once."""
    clock = FrozenClock()
    with session_scope(committed_engine) as session:
        session.add(MessageTemplate(key="coupon-20", name="Coupon"))
        session.add(ContactList(key="loyal-customers", name="Loyal"))
        session.flush()
        scenario = scenarios.create_scenario(
            session, name="Loyalty", graph=LOYALTY, now=clock.now()
        )
        scenarios.activate(session, scenario.id, now=clock.now())  # type: ignore[arg-type]
        buyers = [
            Contact(
                email=f"k{i}@example.com",
                email_consent=True,
                attributes={"orders_count": 1 + i % 2},
            )
            for i in range(30)
        ]
        session.add_all(buyers)
        session.flush()
        session.execute(
            insert(Event),
            [{"uid": uuid.uuid4().hex, "contact_id": b.id, "name": "purchase", "properties": {},
              "occurred_at": clock.now(), "received_at": clock.now()} for b in buyers],
        )  # fmt: skip
    live = redis.pubsub()
    await live.subscribe(f"parcours:live:{scenario.id}")
    queue = await Queue.connect(redis_url)
    await queue.kick("match_triggers")

    worker = Worker(
        functions=WorkerSettings.functions,
        redis_settings=redis_settings(redis_url),
        queue_name=QUEUE_NAME,
        burst=True,
        poll_delay=0.05,
        ctx={"engine": committed_engine, "clock": clock, "lanes": lanes, "chunk_size": chunk_size},
        handle_signals=False,
    )
    await worker.main()
    await worker.close()
    await queue.close()

    with Session(read_only(committed_engine)) as session:
        version = session.exec(select(ScenarioVersion)).one()
        truth = version_stats(session, version)
        assert session.exec(select(func.count()).select_from(Enrollment)).one() == 30
        assert session.exec(select(func.count()).select_from(StepLog)).one() == 90

    def as_truth(hot: dict[str, dict[str, int]]) -> bool:
        return all(
            {k: v for k, v in hot.get(node, {}).items() if v}
            == {k: v for k, v in block.model_dump().items() if v}
            for node, block in truth.nodes.items()
        )

    hot = await counters.read(redis, version.id)
    if lanes > 1 and not as_truth(hot):
        # Lanes racing a rebuild may leave the counts a chunk off (the last rebuild round
        # writes what it read); the version is then due for the idle-time recheck, which
        # reads the log again. Run that recheck now instead of waiting 30 s.
        assert await redis.zscore(counters.RECHECK, str(version.id)) is not None
        await redis.zadd(counters.RECHECK, {str(version.id): 0})
        await recheck_counters({"redis": redis, "engine": committed_engine})
        hot = await counters.read(redis, version.id)
    assert as_truth(hot), (hot, truth.nodes)
    assert truth.nodes["first"].yes == 15
    message = None
    for _ in range(10):  # the subscription's own confirmation comes first
        message = await live.get_message(ignore_subscribe_messages=True, timeout=0.2)
        if message is not None:
            break
    assert message is not None
    assert json.loads(message["data"])["scenario"] == scenario.id
    await live.aclose()


async def test_counters_rebuilt_from_the_step_log_after_redis_lost_them(
    redis,
    committed_engine: Engine,  # type: ignore[no-untyped-def]
) -> None:
    from app.services.scenarios.stats import BlockCounters, ScenarioStats

    stats = ScenarioStats(version=1, nodes={"first": BlockCounters(entered=4, yes=3, no=1)})
    assert await counters.write_rebuilt(redis, 77, stats, final=True)

    assert await counters.read(redis, 77) == {"first": {"entered": 4, "yes": 3, "no": 1}}
    assert UTC is not None


def test_a_chunk_postgresql_cancelled_for_a_deadlock_is_run_again(
    committed_engine: Engine,
) -> None:
    import psycopg.errors
    from sqlalchemy.exc import OperationalError

    from worker.engine.tasks import _once

    tries: list[int] = []

    def work(session: Session, plans: object, now: object) -> str:
        tries.append(1)
        if len(tries) == 1:
            raise OperationalError("UPDATE contacts …", {}, psycopg.errors.DeadlockDetected())
        return "done"

    ctx = {"engine": committed_engine, "clock": FrozenClock()}
    assert _once(ctx, work) == "done"  # type: ignore[arg-type]
    assert len(tries) == 2


def test_other_database_errors_are_not_retried_blindly(committed_engine: Engine) -> None:
    from sqlalchemy.exc import OperationalError

    from worker.engine.tasks import _once

    def work(session: Session, plans: object, now: object) -> str:
        raise OperationalError("SELECT …", {}, Exception("disk I/O error"))

    ctx = {"engine": committed_engine, "clock": FrozenClock()}
    with pytest.raises(OperationalError):
        _once(ctx, work)  # type: ignore[arg-type]


def test_a_chunk_that_waited_out_sqlites_busy_timeout_is_run_again(
    committed_engine: Engine,
) -> None:
    from sqlalchemy.exc import OperationalError

    from worker.engine.tasks import _once

    tries: list[int] = []

    def work(session: Session, plans: object, now: object) -> str:
        tries.append(1)
        if len(tries) == 1:
            raise OperationalError("BEGIN IMMEDIATE", {}, Exception("database is locked"))
        return "done"

    ctx = {"engine": committed_engine, "clock": FrozenClock()}
    assert _once(ctx, work) == "done"  # type: ignore[arg-type]
    assert len(tries) == 2


def test_a_deadlock_reported_by_the_driver_itself_is_retried_too(
    committed_engine: Engine,
) -> None:
    import psycopg.errors

    from worker.engine.tasks import _once

    tries: list[int] = []

    def work(session: Session, plans: object, now: object) -> str:
        tries.append(1)
        if len(tries) == 1:
            raise psycopg.errors.DeadlockDetected()  # as a COPY raises it
        return "done"

    ctx = {"engine": committed_engine, "clock": FrozenClock()}
    assert _once(ctx, work) == "done"  # type: ignore[arg-type]


def test_batches_side_by_side_hold_different_shares_of_the_contacts(
    committed_engine: Engine,
) -> None:
    from app.services.scenarios.enrollments import share_of
    from tests.worker.engine_harness import Engine as Harness
    from worker.engine.triggers import claim_events

    if committed_engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer: its batches follow each other")
    with session_scope(committed_engine) as session:
        harness = Harness(session)
        for person in [harness.contact() for _ in range(40)]:
            harness.event(person, "signup")
            harness.event(person, "purchase")
        now = harness.clock.now()

    # Two workers' transactions at once (the first has not committed when the second claims).
    with Session(committed_engine) as one, Session(committed_engine) as other:
        first = claim_events(one, now, 100, lane=(0, 1))
        second = claim_events(other, now, 100, lane=(0, 1))
        assert len({share_of(e.contact_id) for e in first}) == 1
        assert len({share_of(e.contact_id) for e in second}) == 1
        assert share_of(first[0].contact_id) != share_of(second[0].contact_id)
        # Both events of each contact in the same batch: a contact is matched in order.
        assert len(first) % 2 == 0
        assert len(second) % 2 == 0
        one.rollback()
        other.rollback()
