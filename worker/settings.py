"""arq worker configuration: ``arq worker.settings.WorkerSettings`` or ``parcours worker``."""

from __future__ import annotations

from typing import Any, ClassVar

from arq import cron
from arq.connections import RedisSettings
from arq.worker import func

from app.clock import SystemClock
from app.config import get_settings
from app.db import create_db_engine
from app.sqlite_turns import background, turns_file
from worker import tasks
from worker.contact_import import import_contacts
from worker.delivery import deliver_outbox
from worker.delivery.drain import TIME_BUDGET_SECONDS
from worker.engine import tasks as engine_tasks
from worker.engine.entry_ramps import let_in_waiting
from worker.engine.plans import Plans
from worker.engine.tasks import engine_lanes
from worker.queue import QUEUE_NAME
from worker.simulation.run import simulate


async def startup(ctx: dict[str, Any]) -> None:
    ctx.setdefault("engine", background(create_db_engine(get_settings().database_url)))
    ctx.setdefault("turns", turns_file(ctx["engine"]))
    ctx.setdefault("clock", SystemClock())
    ctx.setdefault("chunk_size", get_settings().engine_chunk_size)
    ctx.setdefault("lanes", engine_lanes(get_settings().engine_lanes, ctx["engine"]))
    # arq hands every job a shallow copy of ctx: what the jobs of this process share (the
    # tasks running now, the cache of compiled plans) must be in it from the start.
    ctx.setdefault("running", {})
    ctx.setdefault("plans", Plans())


async def shutdown(ctx: dict[str, Any]) -> None:
    engine = ctx.get("engine")
    if engine is not None:
        engine.dispose()


class WorkerSettings:
    functions: ClassVar = [
        tasks.sweep,
        # Kicked tasks keep no result, so the next kick is accepted as soon as one has run.
        func(engine_tasks.match_triggers, keep_result=0),
        func(engine_tasks.advance, keep_result=0),
        # Kicked by an activation "at most N per hour" for its first batch; a cron job too.
        func(let_in_waiting, keep_result=0),
        # The sweep kicks it every second while sends are due; it drains until none is left.
        func(deliver_outbox, keep_result=0, timeout=TIME_BUDGET_SECONDS + 60),
        # A CSV import works in slices of 20 s, each queueing the next (worker/contact_import.py).
        func(import_contacts, max_tries=3),
        # A simulation runs to its end in one job, chunk after chunk (worker/simulation).
        func(simulate, max_tries=1, timeout=3600),
    ]
    cron_jobs: ClassVar = [
        cron(tasks.sweep, second=set(range(60)), run_at_startup=True, unique=True, keep_result=0),
        cron(engine_tasks.anniversaries, second={30}, unique=True, keep_result=0),
        cron(engine_tasks.segments, second={15}, unique=True, keep_result=0),
        # Each ramp's hour is its own: checked every minute, it lets a batch in when due.
        cron(let_in_waiting, second={45}, unique=True, keep_result=0),
    ]
    on_startup = startup
    on_shutdown = shutdown
    queue_name = QUEUE_NAME
    poll_delay = 0.05
    job_timeout = 60
    max_tries = 5
    keep_result = 60
    health_check_interval = 10
    redis_settings: RedisSettings | None = None
