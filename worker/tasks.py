"""arq tasks. Each one opens its own unit of work; the database is the source of truth."""

from __future__ import annotations

import asyncio
from typing import Any

from arq import Retry
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from app.clock import Clock
from app.db import session_scope
from app.models import Enrollment, EnrollmentState, OutboxMessage, OutboxStatus

MAX_BACKOFF_SECONDS = 300


def backoff_seconds(job_try: int) -> int:
    """5 s, 10 s, 20 s, ... capped at five minutes."""
    return int(min(MAX_BACKOFF_SECONDS, 5 * 2 ** max(0, job_try - 1)))


def retry_later(ctx: dict[str, Any]) -> Retry:
    return Retry(defer=backoff_seconds(ctx.get("job_try", 1)))


def _count_due_work(engine: Engine, clock: Clock) -> dict[str, int]:
    now = clock.now()
    with session_scope(engine) as session:
        due_timers = session.execute(
            select(func.count())
            .select_from(Enrollment)
            .where(Enrollment.state == EnrollmentState.waiting)  # type: ignore[arg-type]
            .where(Enrollment.wake_at <= now)  # type: ignore[arg-type,operator]
        ).scalar_one()
        due_sends = session.execute(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.status == OutboxStatus.pending)  # type: ignore[arg-type]
        ).scalar_one()
    return {"due_timers": int(due_timers), "pending_sends": int(due_sends)}


async def sweep(ctx: dict[str, Any]) -> dict[str, int]:
    """Periodic safety net: finds work that is due in the database.

    The engine issue makes it re-enqueue due timers and stale chunks, so a wiped Redis or a
    killed worker loses nothing. For now it reports what it found.
    """
    found = await asyncio.to_thread(_count_due_work, ctx["engine"], ctx["clock"])
    await ctx["redis"].set("parcours:sweep:last", ctx["clock"].now().isoformat())
    return found
