"""One worker at a time drains the outbox, so the send rate holds across machines.

The lease is a Redis key with a time-to-live, renewed after every chunk. When a drain ends
the key is not deleted but left to expire one rate window after the last send: the next
drainer, on any machine, cannot start within the same second.
"""

from __future__ import annotations

import uuid
from typing import Any

LEASE_KEY = "parcours:delivery:lease"
LEASE_MS = 60_000
_RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0
"""


class DrainLease:
    def __init__(self, redis: Any, ttl_ms: int = LEASE_MS) -> None:
        self._redis = redis
        self._token = uuid.uuid4().hex
        self.ttl_ms = max(ttl_ms, LEASE_MS)

    async def acquire(self) -> bool:
        return bool(await self._redis.set(LEASE_KEY, self._token, nx=True, px=self.ttl_ms))

    async def renew(self) -> bool:
        return bool(await self._redis.eval(_RENEW, 1, LEASE_KEY, self._token, self.ttl_ms))

    async def release(self, hold_ms: int) -> None:
        """Lets the lease expire ``hold_ms`` from now (at least 1 ms)."""
        await self._redis.eval(_RENEW, 1, LEASE_KEY, self._token, max(1, hold_ms))
