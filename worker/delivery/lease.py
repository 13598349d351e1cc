"""One worker at a time drains the outbox, so the send rate holds across machines.

The lease is a Redis key with a short life, renewed by a heartbeat while the drain runs: when
the drainer dies, another worker takes over within seconds rather than after a long expiry.
When a drain ends the key is not deleted but left to expire one rate window after the last
send: the next drainer, on any machine, cannot start within the same second.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from typing import Any

LEASE_KEY = "parcours:delivery:lease"
LEASE_MS = 5_000
_RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0
"""


class DrainLease:
    def __init__(self, redis: Any, ttl_ms: int = LEASE_MS) -> None:
        self._redis = redis
        # Which process drains, for whoever looks at the key (operators, the fault tests).
        self._token = f"{os.getpid()}:{uuid.uuid4().hex}"
        self.ttl_ms = ttl_ms
        self.lost = False
        self._heartbeat: asyncio.Task[None] | None = None

    async def acquire(self) -> bool:
        taken = bool(await self._redis.set(LEASE_KEY, self._token, nx=True, px=self.ttl_ms))
        if taken:
            self._heartbeat = asyncio.create_task(self._beat())
        return taken

    async def renew(self) -> bool:
        return bool(await self._redis.eval(_RENEW, 1, LEASE_KEY, self._token, self.ttl_ms))

    async def _beat(self) -> None:
        while not self.lost:
            await asyncio.sleep(self.ttl_ms / 3000)
            try:
                self.lost = not await self.renew()
            except Exception:  # Redis away: the lease runs out; stop rather than overlap
                self.lost = True

    async def release(self, hold_ms: int) -> None:
        """Stops the heartbeat and lets the lease expire ``hold_ms`` from now (at least 1 ms)."""
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._heartbeat
        await self._redis.eval(_RENEW, 1, LEASE_KEY, self._token, max(1, hold_ms))
