"""The hourly batches of scenarios activated “with the contacts already there, at most N per
hour” (CONTRACTS-2 §C; the queue is ``app/services/scenarios/existing_contacts.py``).

Run every minute: a ramp whose hour has come lets its batch in, one transaction per scenario
(the batch's queue rows are deleted and the ramp moved on in the transaction that enrolls
them), so a worker killed mid-batch leaves the queue as it was, and the next run lets the same
contacts in once.
"""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy.engine import Engine

from app.clock import Clock
from app.db import session_scope
from app.services.scenarios import existing_contacts
from app.sqlite_turns import let_web_writers_in
from worker.queue import Queue


async def let_in_waiting(ctx: dict[str, Any]) -> int:
    """Lets in the due batches of every ramp; returns how many contacts entered."""
    engine: Engine = ctx["engine"]
    clock: Clock = ctx["clock"]
    due = await asyncio.to_thread(_due, engine, clock)
    entered = 0
    for scenario_id in due:
        entered += await asyncio.to_thread(_batch, engine, clock, scenario_id)
        await let_web_writers_in(ctx.get("turns"))
    if entered:
        await Queue(ctx["redis"]).kick("advance")  # their journeys start at once
    return entered


def _due(engine: Engine, clock: Clock) -> list[int]:
    with session_scope(engine) as session:
        return existing_contacts.due_ramps(session, clock.now())


def _batch(engine: Engine, clock: Clock, scenario_id: int) -> int:
    with session_scope(engine) as session:
        return existing_contacts.drain_ramp(session, scenario_id, clock.now()) or 0
