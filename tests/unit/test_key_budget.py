"""An API key's budget is shared through Redis yet costs no round trip per request."""

from __future__ import annotations

import asyncio
from typing import Any

from redis.asyncio import Redis

from app.routes.api.key_budget import KeyBudgets

WINDOW = 60
NOW = 1_000_000.0  # inside one window


class CountingRedis:
    """The real Redis, with its pipelines counted: how many round trips the budget made."""

    def __init__(self, redis: Redis) -> None:
        self.redis, self.round_trips = redis, 0

    def pipeline(self, **options: Any) -> Any:
        self.round_trips += 1
        return self.redis.pipeline(**options)


async def answers(budgets: KeyBudgets, requests: int, limit: int) -> list[int | None]:
    return list(
        await asyncio.gather(*(budgets.over("key:1", limit, WINDOW, NOW) for _ in range(requests)))
    )


async def test_far_from_the_limit_requests_share_round_trips_to_redis(redis: Redis) -> None:
    counting = CountingRedis(redis)
    budgets = KeyBudgets(counting)  # type: ignore[arg-type]

    refused = [a for a in await answers(budgets, 500, limit=100_000) if a is not None]
    await asyncio.sleep(0.05)  # the counts still on their way

    assert refused == []
    assert counting.round_trips < 50
    assert int(await redis.get(f"parcours:rate:key:1:{int(NOW // WINDOW)}")) == 500


async def test_one_process_refuses_exactly_past_the_limit(redis: Redis) -> None:
    budgets = KeyBudgets(redis)

    given = await answers(budgets, 40, limit=25)

    assert sum(a is None for a in given) == 25
    assert all(a is not None and 1 <= a <= WINDOW for a in given[25:])


async def test_processes_share_one_budget(redis: Redis) -> None:
    first, second = KeyBudgets(redis), KeyBudgets(redis)

    given = [
        *await answers(first, 30, limit=40),
        *await answers(second, 30, limit=40),
    ]

    assert sum(a is None for a in given) == 40


async def test_a_new_window_starts_from_zero(redis: Redis) -> None:
    budgets = KeyBudgets(redis)
    await answers(budgets, 5, limit=5)

    assert await budgets.over("key:1", 5, WINDOW, NOW) is not None
    assert await budgets.over("key:1", 5, WINDOW, NOW + WINDOW) is None


async def test_without_redis_requests_go_through() -> None:
    away = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    budgets = KeyBudgets(away)

    given = await answers(budgets, 10, limit=3)

    assert given == [None] * 10
    await away.aclose()
