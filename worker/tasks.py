"""arq tasks outside the engine: the sweep."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

from app.db import read_only, session_scope
from app.models import OutboxStatus
from app.services.capture.retention import forget_what_is_past_keeping
from worker.engine.advance import due
from worker.engine.tasks import recheck_counters
from worker.queue import Queue
from worker.simulation.run import silent_simulations

ENROLLMENTS = SQLModel.metadata.tables["enrollments"]
EVENTS = SQLModel.metadata.tables["events"]
OUTBOX = SQLModel.metadata.tables["outbox"]
PURGE_KEY = "parcours:purge:capture"
PURGE_EVERY_SECONDS = 3600


def _forget_what_is_past_keeping(engine: Engine, now: datetime) -> None:
    with session_scope(engine) as session:
        forget_what_is_past_keeping(session, now)


def find_due_work(engine: Engine, now: datetime) -> dict[str, bool]:
    """Which kinds of work the database holds now (three index look-ups)."""
    with read_only(engine).connect() as conn:
        checks = _checks(conn, now)
        return {
            task: conn.execute(query.limit(1)).first() is not None for task, query in checks.items()
        }


def _checks(conn: Connection, now: datetime) -> dict[str, Any]:
    return {
        "advance": due(conn, now).with_only_columns(ENROLLMENTS.c.id),
        "match_triggers": select(EVENTS.c.id).where(EVENTS.c.processed_at.is_(None)),
        "deliver_outbox": select(OUTBOX.c.id).where(
            OUTBOX.c.status == OutboxStatus.pending.value, OUTBOX.c.next_attempt_at <= now
        ),
    }


async def sweep(ctx: dict[str, Any]) -> dict[str, bool]:
    """Every second: wakes the tasks whose work is due in the database.

    Jobs in Redis are only "work to do now" hints; this is what makes a wiped Redis or a
    killed worker lose nothing.
    """
    now = ctx["clock"].now()
    due = await asyncio.to_thread(find_due_work, ctx["engine"], now)
    queue = Queue(ctx["redis"])
    for task, has_work in due.items():
        if has_work:
            # A fresh job id each second, not the coalescing kick: a kick job left "in
            # progress" by a killed worker must not hold the work back until arq expires it.
            await queue.enqueue(task, job_id=f"sweep:{task}:{int(now.timestamp())}")
    # A simulation whose run fell silent (its worker died, its job was lost) starts again.
    for simulation_id in await asyncio.to_thread(silent_simulations, ctx["engine"], now):
        await queue.enqueue(
            "simulate",
            simulation_id,
            job_id=f"sweep:simulate:{simulation_id}:{int(now.timestamp())}",
        )
    if not due["advance"] and not due["match_triggers"]:
        await recheck_counters(ctx)
    # Once an hour across workers: what visitors left (forms, anonymous events) is not kept.
    if await ctx["redis"].set(PURGE_KEY, now.isoformat(), nx=True, ex=PURGE_EVERY_SECONDS):
        await asyncio.to_thread(_forget_what_is_past_keeping, ctx["engine"], now)
    await ctx["redis"].set("parcours:sweep:last", ctx["clock"].now().isoformat())
    return due
