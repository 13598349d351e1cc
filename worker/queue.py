"""The one seam between Parcours and its job queue (arq today).

Everything that enqueues work goes through :class:`Queue`; swapping arq for another queue
means rewriting this module and ``worker/settings.py``, nothing else. Jobs only say "there
is work to do now": the database stays the source of truth, so a lost job is recovered by the
periodic sweep.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from arq import ArqRedis, create_pool
from arq.connections import RedisSettings

QUEUE_NAME = "parcours:queue"


def redis_settings(url: str) -> RedisSettings:
    settings = RedisSettings.from_dsn(url)
    settings.conn_timeout = 5
    settings.conn_retries = 5
    return settings


class Queue:
    def __init__(self, pool: ArqRedis) -> None:
        self._pool = pool

    @classmethod
    async def connect(cls, redis_url: str) -> Queue:
        pool = await create_pool(redis_settings(redis_url), default_queue_name=QUEUE_NAME)
        return cls(pool)

    async def enqueue(
        self,
        task: str,
        *args: Any,
        job_id: str | None = None,
        defer_by: timedelta | None = None,
    ) -> bool:
        """Queue ``task``; False when a job with the same ``job_id`` is already queued."""
        job = await self._pool.enqueue_job(task, *args, _job_id=job_id, _defer_by=defer_by)
        return job is not None

    async def kick(self, task: str) -> None:
        """Wake ``task`` up now; kicks coalesce while one is already waiting in the queue.

        Kicked tasks read their work from the database and are registered with
        ``keep_result=0``, so the next kick after a run is accepted at once.
        """
        await self.enqueue(task, job_id=f"kick:{task}")

    @property
    def redis(self) -> ArqRedis:
        return self._pool

    async def close(self) -> None:
        await self._pool.aclose()
