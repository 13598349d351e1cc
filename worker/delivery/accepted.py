"""What the SMTP server (or the SMS provider, or a webhook) accepted, recorded at once.

Outcomes reach the database in bulk, every ``FLUSH_EVERY`` sends. A worker that dies between
an accept and that write would leave the row to be sent again; so each accept is marked in
Redis as soon as it is answered, and a row claimed again after a crash is sent again only
when nothing says it was accepted. What is left: the one message in flight on the
connection when the worker died (accepted, not yet marked). Marks go once the outcome is
written; losing Redis loses them, and those rows are sent again as before.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

ACCEPTED = "parcours:delivery:accepted"  # hash: outbox row id -> 1


class AcceptedMarks:
    def __init__(self, redis: Any) -> None:
        self._redis = redis

    async def mark(self, row_id: int) -> None:
        if self._redis is not None:
            await self._redis.hset(ACCEPTED, str(row_id), 1)

    async def accepted(self, row_ids: Iterable[int]) -> set[int]:
        ids = [str(row_id) for row_id in row_ids]
        if self._redis is None or not ids:
            return set()
        values = await self._redis.hmget(ACCEPTED, ids)
        return {int(row_id) for row_id, value in zip(ids, values, strict=True) if value}

    async def forget(self, row_ids: Iterable[int]) -> None:
        ids = [str(row_id) for row_id in row_ids]
        if self._redis is not None and ids:
            await self._redis.hdel(ACCEPTED, *ids)
