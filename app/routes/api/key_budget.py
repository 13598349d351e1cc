"""An API key's request budget, shared by every web process, without a Redis call per request.

The budget is a fixed-window count in Redis (``parcours:rate:<bucket>:<window>``), so N
processes share it. Each process sends its counts in one ``INCRBY`` at a time, carrying every
request that arrived meanwhile, and a request learns its place from the total: with T the
window's count before the ``INCRBY`` of n requests, the k-th of them is request T + k, and goes
through when that is within the limit — exact, whatever the number of processes. Far from the
limit a request need not wait for that answer: while the count as Redis said less than
``FRESH_SECONDS`` ago, plus what this process counted since, stays under ``EARLY_SHARE`` of the
limit, it goes through at once and is counted by the next ``INCRBY``. N processes together may
so let through at most what each took in its last ``FRESH_SECONDS`` too many, and only past
``EARLY_SHARE`` of the limit. If Redis does not answer, requests go through: losing intake
would be worse than a loose limit.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from dataclasses import dataclass, field

from redis.asyncio import Redis

log = logging.getLogger("parcours.intake")
EARLY_SHARE = 0.9
FRESH_SECONDS = 0.1
# A Redis that takes connections but does not answer (stopped, partitioned) is Redis away:
# the client has no read timeout, so without this every request waiting for its place would
# wait for ever.
REDIS_WAIT_SECONDS = 1.0


@dataclass
class _Window:
    key: str
    known: int = 0  # the window's count, as Redis last answered
    in_flight: int = 0  # counted here, on their way to Redis
    unsent: int = 0  # counted here, not yet sent
    heard_at: float = -math.inf  # when Redis last answered (monotonic)
    # Requests waiting for their place: (their index among the unsent, its future).
    waiting: list[tuple[int, asyncio.Future[int | None]]] = field(default_factory=list)
    flushing: asyncio.Task[None] | None = field(default=None, repr=False)

    def estimate(self) -> int:
        return self.known + self.in_flight + self.unsent


class KeyBudgets:
    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self._windows: dict[str, _Window] = {}

    async def over(self, bucket: str, limit: int, window: int, now: float) -> int | None:
        """Counts one request in ``bucket``; past ``limit`` in the window, the seconds to wait."""
        if limit <= 0:
            return None
        slot = int(now // window)
        key = f"parcours:rate:{bucket}:{slot}"
        counted = self._windows.get(bucket)
        if counted is None or counted.key != key:
            counted = self._windows[bucket] = _Window(key)
        fresh = time.monotonic() - counted.heard_at < FRESH_SECONDS
        early = fresh and counted.estimate() + 1 <= limit * EARLY_SHARE
        place: asyncio.Future[int | None] | None = None
        if not early:
            place = asyncio.get_running_loop().create_future()
            counted.waiting.append((counted.unsent, place))
        counted.unsent += 1
        if counted.flushing is None:
            counted.flushing = asyncio.create_task(self._flush(counted, window))
        if place is None:
            return None
        number = await place
        if number is None or number <= limit:
            return None
        return max(1, math.ceil((slot + 1) * window - now))

    async def _flush(self, counted: _Window, window: int) -> None:
        try:
            while counted.unsent:
                await self._send(counted, window)
        finally:
            counted.flushing = None
            for _, place in counted.waiting:  # only if the task itself was cancelled
                if not place.done():
                    place.set_result(None)
            counted.waiting = []

    async def _send(self, counted: _Window, window: int) -> None:
        """Adds what is unsent to Redis and tells each waiting request its place."""
        amount, counted.unsent = counted.unsent, 0
        waiting, counted.waiting = counted.waiting, []
        counted.in_flight += amount
        total: int | None = None
        try:
            pipe = self.redis.pipeline(transaction=False)
            pipe.incrby(counted.key, amount)
            pipe.expire(counted.key, window * 2)
            answer, _ = await asyncio.wait_for(pipe.execute(), REDIS_WAIT_SECONDS)
            total = int(answer)
            counted.known = max(counted.known, total)
            counted.heard_at = time.monotonic()
        except Exception:  # Redis down: keep taking data rather than refuse it
            log.warning("rate limiter unavailable; letting the requests through", exc_info=True)
        finally:
            counted.in_flight -= amount
            before = None if total is None else total - amount
            for index, place in waiting:
                if not place.done():
                    place.set_result(None if before is None else before + index + 1)
