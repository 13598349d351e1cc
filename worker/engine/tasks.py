"""The engine's arq tasks. Each reads its work from the database, so a lost job loses nothing:
the sweep (every second) kicks them again while work is due."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from functools import partial
from typing import Any, TypeVar

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from app.clock import Clock
from app.db import is_database_locked, read_only, session_scope
from app.models import ScenarioVersion
from app.services.scenarios.stats import ScenarioStats, version_stats
from app.sqlite_turns import let_web_writers_in
from worker.engine import counters
from worker.engine.advance import CHUNK_SIZE, ChunkReport, advance_chunk
from worker.engine.anniversaries import schedule_anniversaries
from worker.engine.book import CounterKey, StaleChunk
from worker.engine.plans import Plans
from worker.engine.segments import check_segments
from worker.engine.triggers import MatchReport, match_events
from worker.queue import Queue

log = logging.getLogger("parcours.engine")
BUDGET_SECONDS = 20.0
STALE_RETRIES = 5  # then the task yields to other jobs and kicks itself again
RETRYABLE = {"40P01", "40001"}  # deadlock detected, serialization failure
Report = TypeVar("Report", ChunkReport, MatchReport)


def _plans(ctx: dict[str, Any]) -> Plans:
    plans: Plans = ctx.setdefault("plans", Plans())
    return plans


def engine_lanes(configured: int, engine: Engine) -> int:
    if configured:
        return configured
    return 2 if engine.dialect.name == "postgresql" else 1


def _once(ctx: dict[str, Any], work: Callable[..., Report | None]) -> Report | None:
    engine: Engine = ctx["engine"]
    clock: Clock = ctx["clock"]
    for _ in range(STALE_RETRIES):
        try:
            with session_scope(engine) as session:
                return work(session, _plans(ctx), clock.now())
        except StaleChunk as exc:  # another run got there first: nothing written, go again
            log.info("chunk dropped: %s", exc)
        except Exception as exc:
            # Two transactions waited on each other (contacts both changed): PostgreSQL
            # cancelled this one, and nothing of it was written. Go again. (A COPY reports it
            # straight from the driver, other statements through SQLAlchemy.)
            # SQLite: the write lock stayed taken for the whole busy timeout. Go again too.
            if _sqlstate(exc) not in RETRYABLE and not is_database_locked(exc):
                raise
            log.info("chunk dropped: %s", exc)
    return None


def _sqlstate(exc: Exception) -> str | None:
    state = getattr(exc, "sqlstate", None) or getattr(getattr(exc, "orig", None), "sqlstate", None)
    return state if isinstance(state, str) else None


async def _in_lanes(ctx: dict[str, Any], lane: Callable[..., Any]) -> list[Any]:
    """Runs ``lane(ctx, index, lanes)`` side by side; all have ended when this returns (or
    raises the first failure), so no transaction outlives the task."""
    lanes = ctx.get("lanes", 1)
    results = await asyncio.gather(
        *(lane(ctx, index, lanes) for index in range(lanes)), return_exceptions=True
    )
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return results


async def _alone(ctx: dict[str, Any], task: str, run: Callable[..., Awaitable[int]]) -> int:
    """Runs ``task`` unless a run of it is going on in this worker process: then that run is
    asked to go once more before it ends (it may have looked for work just before this kick's
    work arrived) and this one returns at once."""
    running: dict[str, bool] = ctx.setdefault("running", {})
    if task in running:
        running[task] = True
        return 0
    running[task] = False
    total = 0
    try:
        while True:
            total += await run(ctx)
            if not running[task]:
                return total
            running[task] = False
    finally:
        del running[task]


async def match_triggers(ctx: dict[str, Any]) -> int:
    return await _alone(ctx, "match_triggers", _match_triggers)


async def advance(ctx: dict[str, Any]) -> int:
    return await _alone(ctx, "advance", _advance)


async def _match_triggers(ctx: dict[str, Any]) -> int:
    """Matches new events until there are none (new journeys run their first steps in the
    same transaction), then runs the waits those events ended; returns the events handled."""
    lanes = await _in_lanes(ctx, _match_lane)
    if any(resumed for _, resumed in lanes):
        await advance(ctx)
    return sum(handled for handled, _ in lanes)


async def _match_lane(ctx: dict[str, Any], index: int, lanes: int) -> tuple[int, bool]:
    """Matches the events of this lane's share of the contacts until there are none."""
    queue, handled, deadline = Queue(ctx["redis"]), 0, time.monotonic() + BUDGET_SECONDS
    resumed = False
    batch = partial(match_events, limit=ctx.get("chunk_size", CHUNK_SIZE), lane=(index, lanes))
    while True:
        report = await asyncio.to_thread(_once, ctx, batch)
        if report is None:
            return handled, resumed
        handled += report.events
        resumed = resumed or bool(report.resumed)
        await publish_counters(ctx, report.counters)  # at once: see worker/engine/counters.py
        await let_web_writers_in(ctx.get("turns"))
        if report.outbox:
            await queue.kick("deliver_outbox")
        if time.monotonic() > deadline:
            await queue.kick("match_triggers")
            return handled, resumed


async def _advance(ctx: dict[str, Any]) -> int:
    """Runs due chunks until none is left; returns how many contact-steps it ran."""
    return sum(await _in_lanes(ctx, _advance_lane))


async def _advance_lane(ctx: dict[str, Any], index: int, lanes: int) -> int:
    """Claims due chunks (skipping those other lanes hold) until none is left."""
    queue, steps, deadline = Queue(ctx["redis"]), 0, time.monotonic() + BUDGET_SECONDS
    chunk = partial(advance_chunk, limit=ctx.get("chunk_size", CHUNK_SIZE))
    while True:
        report = await asyncio.to_thread(_once, ctx, chunk)
        if report is None:
            return steps
        steps += report.steps
        await publish_counters(ctx, report.counters)  # at once: see worker/engine/counters.py
        await let_web_writers_in(ctx.get("turns"))
        if report.outbox:
            await queue.kick("deliver_outbox")
        if report.events_to_match:
            await queue.kick("match_triggers")
        if time.monotonic() > deadline:
            await queue.kick("advance")
            return steps


async def publish_counters(ctx: dict[str, Any], changes: Mapping[CounterKey, int]) -> None:
    """Adds a committed chunk's counts to the hot counters, or rebuilds from the step log the
    versions Redis has lost (read after this chunk's commit, so it is counted)."""
    for version_id in await counters.publish(ctx["redis"], changes):
        await _rebuild(ctx, version_id)


async def _rebuild(ctx: dict[str, Any], version_id: int) -> bool:
    """Reads a version's counts from the step log into Redis, unless another worker is at
    it; again while chunks came in meanwhile (a few rounds, then as they are)."""
    redis = ctx["redis"]
    if not await counters.claim_rebuild(redis, version_id):
        return False
    try:
        for round_ in range(counters.REBUILD_ROUNDS):
            stats = await asyncio.to_thread(_version_stats, ctx["engine"], version_id)
            last = round_ == counters.REBUILD_ROUNDS - 1
            if await counters.write_rebuilt(redis, version_id, stats, final=last):
                return True
    except BaseException:
        await counters.let_go(redis, version_id)
        raise
    return True


async def recheck_counters(ctx: dict[str, Any]) -> int:
    """With the engine idle: versions that moved are read from the step log once more (a
    chunk whose worker died before it published, or one counted twice while a rebuild read
    the log, is set right), and versions Redis lost while nothing ran are rebuilt, so
    readers need not go to the log."""
    redis = ctx["redis"]
    rechecks = await counters.due_rechecks(redis)
    published = await asyncio.to_thread(_published_versions, ctx["engine"])
    lost = [v for v in await counters.unbuilt(redis, published) if v not in rechecks]
    done = 0
    for version_id, due_at in rechecks.items():
        if await _rebuild(ctx, version_id):
            await counters.checked(redis, version_id, due_at)
            done += 1
    for version_id in lost:
        done += await _rebuild(ctx, version_id)
    return done


def _published_versions(engine: Engine) -> list[int]:
    with Session(read_only(engine)) as session:
        return list(session.exec(select(ScenarioVersion.id)).all())  # type: ignore[arg-type]


def _version_stats(engine: Engine, version_id: int) -> ScenarioStats:
    with Session(read_only(engine)) as session:
        return version_stats(session, session.get(ScenarioVersion, version_id))


async def anniversaries(ctx: dict[str, Any]) -> int:
    """Every minute: contacts whose anniversary moment has come enter their scenarios."""
    entered = await asyncio.to_thread(_once_entered, ctx)
    if entered:
        await Queue(ctx["redis"]).kick("advance")
    return entered


def _once_entered(ctx: dict[str, Any]) -> int:
    with session_scope(ctx["engine"]) as session:
        return schedule_anniversaries(session, _plans(ctx), ctx["clock"].now())


async def segments(ctx: dict[str, Any]) -> int:
    """Every minute: contacts who entered a watched segment enter their scenarios."""
    entered = await asyncio.to_thread(_once_segments, ctx)
    if entered:
        await Queue(ctx["redis"]).kick("advance")
    return entered


def _once_segments(ctx: dict[str, Any]) -> int:
    with session_scope(ctx["engine"]) as session:
        return check_segments(session, _plans(ctx), ctx["clock"].now())
