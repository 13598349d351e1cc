"""arq worker configuration: ``arq worker.settings.WorkerSettings`` or ``parcours worker``."""

from __future__ import annotations

from typing import Any, ClassVar

from arq import cron
from arq.worker import func
from arq.connections import RedisSettings

from app.clock import SystemClock
from app.config import get_settings
from app.db import create_db_engine
from worker import tasks
from worker.engine import tasks as engine_tasks
from worker.queue import QUEUE_NAME


async def startup(ctx: dict[str, Any]) -> None:
    ctx.setdefault("engine", create_db_engine(get_settings().database_url))
    ctx.setdefault("clock", SystemClock())


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
    ]
    cron_jobs: ClassVar = [
        cron(tasks.sweep, second=set(range(60)), run_at_startup=True, unique=True, keep_result=0),
        cron(engine_tasks.anniversaries, second={30}, unique=True, keep_result=0),
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
