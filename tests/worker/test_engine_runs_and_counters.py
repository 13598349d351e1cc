"""One run of a task at a time per worker process, and hot counters that survive Redis."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from arq import create_pool
from sqlalchemy import Engine, insert
from sqlmodel import Session, func, select

from app.clock import FrozenClock
from app.db import read_only, session_scope
from app.models import Contact, ContactList, Event, MessageTemplate, ScenarioVersion
from app.services.insights.live_counters import hot_counters
from app.services.scenarios import scenarios
from app.services.scenarios.stats import version_stats
from tests.worker.test_engine_journeys import LOYALTY, graph
from worker.__main__ import _RunningJobs
from worker.engine import counters, tasks
from worker.engine.plans import Plans
from worker.queue import redis_settings

PAUSE = graph(
    [
        {"id": "bought", "type": "trigger", "kind": "event", "config": {"event": "purchase"}},
        {"id": "pause", "type": "delay", "kind": "wait", "config": {"seconds": 3600}},
        {"id": "loyal", "type": "action", "kind": "add_to_list", "config": {"list": "loyal-customers"}},
    ],
    [("bought", "pause"), ("pause", "loyal")],
)  # fmt: skip


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
async def worker_ctx(
    committed_engine: Engine, redis: Any, redis_url: str, clock: FrozenClock
) -> AsyncIterator[dict[str, Any]]:
    """What arq and ``worker.settings.startup`` leave in ctx; each job gets a copy of it."""
    pool = await create_pool(redis_settings(redis_url))
    yield {
        "engine": committed_engine,
        "clock": clock,
        "redis": pool,
        "lanes": 1,
        "chunk_size": 50,
        "running": {},
        "plans": Plans(),
    }
    await pool.aclose()


def _live_scenario(engine: Engine, clock: FrozenClock, document: dict[str, Any]) -> int:
    with session_scope(engine) as session:
        session.add(MessageTemplate(key="coupon-20", name="Coupon"))
        session.add(ContactList(key="loyal-customers", name="Loyal"))
        session.flush()
        scenario = scenarios.create_scenario(session, name="S", graph=document, now=clock.now())
        assert scenario.id is not None
        _, version, _ = scenarios.activate(session, scenario.id, now=clock.now())
        assert version.id is not None
        return version.id


def _purchases(engine: Engine, clock: FrozenClock, count: int) -> None:
    with session_scope(engine) as session:
        buyers = [
            Contact(email=f"{uuid.uuid4().hex[:10]}@example.com", email_consent=True,
                    attributes={"orders_count": 1 + i % 2})
            for i in range(count)
        ]  # fmt: skip
        session.add_all(buyers)
        session.flush()
        session.execute(
            insert(Event),
            [{"uid": uuid.uuid4().hex, "contact_id": b.id, "name": "purchase", "properties": {},
              "occurred_at": clock.now(), "received_at": clock.now()} for b in buyers],
        )  # fmt: skip


def _unmatched(engine: Engine) -> int:
    with Session(read_only(engine)) as session:
        query = select(func.count()).select_from(Event).where(Event.processed_at.is_(None))  # type: ignore[union-attr]
        return session.exec(query).one()


def _truth(engine: Engine, version_id: int) -> dict[str, dict[str, int]]:
    with Session(read_only(engine)) as session:
        stats = version_stats(session, session.get(ScenarioVersion, version_id))
    return {
        node: {k: v for k, v in block.model_dump().items() if v}
        for node, block in stats.nodes.items()
        if any(block.model_dump().values())
    }


async def _hot(redis: Any, version_id: int) -> dict[str, dict[str, int]]:
    nodes = (await hot_counters(redis, [version_id])).get(version_id)
    assert nodes is not None, "the counters were not rebuilt"
    return {n: {k: v for k, v in c.items() if v} for n, c in nodes.items() if any(c.values())}


async def test_jobs_of_one_task_never_run_side_by_side_in_one_worker(
    worker_ctx: dict[str, Any], committed_engine: Engine, clock: FrozenClock, monkeypatch: Any
) -> None:
    _live_scenario(committed_engine, clock, LOYALTY)
    _purchases(committed_engine, clock, 200)
    active, most = 0, 0
    real = tasks._match_triggers

    async def watched(ctx: dict[str, Any]) -> int:
        nonlocal active, most
        active += 1
        most = max(most, active)
        try:
            return await real(ctx)
        finally:
            active -= 1

    monkeypatch.setattr(tasks, "_match_triggers", watched)

    # arq gives each job its own shallow copy of the worker's ctx.
    handled = await asyncio.gather(*(tasks.match_triggers({**worker_ctx}) for _ in range(5)))

    assert most == 1
    assert sorted(handled) == [0, 0, 0, 0, 200]
    assert _unmatched(committed_engine) == 0


async def test_a_kick_during_a_run_makes_that_run_go_once_more(
    worker_ctx: dict[str, Any], committed_engine: Engine, clock: FrozenClock, monkeypatch: Any
) -> None:
    _live_scenario(committed_engine, clock, LOYALTY)
    _purchases(committed_engine, clock, 10)
    real, runs = tasks._match_triggers, []

    async def then_more_arrive(ctx: dict[str, Any]) -> int:
        handled = await real(ctx)
        runs.append(handled)
        if len(runs) == 1:  # events posted, and their kick comes while this run ends
            _purchases(committed_engine, clock, 7)
            assert await tasks.match_triggers({**worker_ctx}) == 0
        return handled

    monkeypatch.setattr(tasks, "_match_triggers", then_more_arrive)

    assert await tasks.match_triggers({**worker_ctx}) == 17
    assert runs == [10, 7]
    assert _unmatched(committed_engine) == 0


async def test_counters_lost_with_redis_are_rebuilt_from_the_step_log_and_stay_exact(
    worker_ctx: dict[str, Any], committed_engine: Engine, clock: FrozenClock, redis: Any
) -> None:
    version_id = _live_scenario(committed_engine, clock, PAUSE)
    _purchases(committed_engine, clock, 40)
    await tasks.match_triggers({**worker_ctx})  # 40 enter and wait
    assert await _hot(redis, version_id) == _truth(committed_engine, version_id)

    await redis.flushdb()
    _purchases(committed_engine, clock, 11)
    await tasks.match_triggers({**worker_ctx})
    clock.advance(hours=2)
    await tasks.advance({**worker_ctx})  # the 51 leave the wait: "waiting" goes down

    truth = _truth(committed_engine, version_id)
    assert truth["pause"]["entered"] == 51
    assert await _hot(redis, version_id) == truth
    assert all(v >= 0 for v in (await counters.read(redis, version_id))["pause"].values())


async def test_a_hash_redis_kept_only_in_part_is_not_trusted(
    worker_ctx: dict[str, Any], committed_engine: Engine, clock: FrozenClock, redis: Any
) -> None:
    version_id = _live_scenario(committed_engine, clock, PAUSE)
    _purchases(committed_engine, clock, 5)
    await tasks.match_triggers({**worker_ctx})
    # As if Redis restarted empty and something wrote increments before any rebuild.
    await redis.delete(counters.COUNTERS.format(version_id=version_id))
    await redis.hincrby(counters.COUNTERS.format(version_id=version_id), "pause:waiting", -3)

    assert await hot_counters(redis, [version_id]) == {}  # readers go to the step log


async def test_the_idle_engine_checks_rebuilt_counters_once_more(
    worker_ctx: dict[str, Any], committed_engine: Engine, clock: FrozenClock, redis: Any
) -> None:
    version_id = _live_scenario(committed_engine, clock, PAUSE)
    _purchases(committed_engine, clock, 6)
    await tasks.match_triggers({**worker_ctx})
    assert await counters.due_rechecks(redis) == {}
    key = counters.COUNTERS.format(version_id=version_id)
    await redis.hincrby(key, "pause:entered", 2)  # a chunk counted twice during a rebuild
    await redis.zadd(counters.RECHECK, {str(version_id): 0})

    assert await tasks.recheck_counters({**worker_ctx}) == 1

    assert await _hot(redis, version_id) == _truth(committed_engine, version_id)
    assert await counters.due_rechecks(redis) == {}


def test_a_job_id_removed_twice_from_the_running_jobs_is_no_error() -> None:
    running = _RunningJobs()
    running["kick:deliver_outbox"] = None
    del running["kick:deliver_outbox"]
    del running["kick:deliver_outbox"]  # arq did this after a flush: KeyError, a failed job
    assert running == {}


async def test_a_chunk_whose_worker_died_before_publishing_is_counted_once_all_is_quiet(
    worker_ctx: dict[str, Any], committed_engine: Engine, clock: FrozenClock, redis: Any
) -> None:
    version_id = _live_scenario(committed_engine, clock, PAUSE)
    _purchases(committed_engine, clock, 8)
    await tasks.match_triggers({**worker_ctx})
    # Committed, never published: the worker was killed in between.
    _purchases(committed_engine, clock, 3)
    with session_scope(committed_engine) as session:
        from worker.engine.triggers import match_events

        while match_events(session, worker_ctx["plans"], clock.now()):
            pass
    assert (await _hot(redis, version_id))["pause"]["entered"] == 8
    await redis.zadd(counters.RECHECK, {str(version_id): 0})  # as if quiet long enough

    await tasks.recheck_counters({**worker_ctx})

    assert await _hot(redis, version_id) == _truth(committed_engine, version_id)
    assert (await _hot(redis, version_id))["pause"]["entered"] == 11


async def test_a_chunk_published_during_a_recheck_keeps_the_version_for_another_look(
    worker_ctx: dict[str, Any], committed_engine: Engine, clock: FrozenClock, redis: Any
) -> None:
    version_id = _live_scenario(committed_engine, clock, PAUSE)
    _purchases(committed_engine, clock, 4)
    await tasks.match_triggers({**worker_ctx})
    await redis.zadd(counters.RECHECK, {str(version_id): 0})
    # Another worker is rebuilding it right now: the recheck leaves it to a later look.
    assert await counters.claim_rebuild(redis, version_id)

    assert await tasks.recheck_counters({**worker_ctx}) == 0

    assert str(version_id).encode() in await redis.zrange(counters.RECHECK, 0, -1)
