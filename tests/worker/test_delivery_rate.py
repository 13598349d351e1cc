"""The send rate is never exceeded in any one-second window, and workers never share rows."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine

from app.clock import FrozenClock
from app.config import Settings
from app.db import session_scope
from tests.fixtures.smtp import SmtpSink
from tests.worker.delivery_kit import (
    add_contact,
    add_template,
    drain,
    frozen_sleep,
    outbox,
    queue,
    with_settings,
)
from worker.delivery.lease import LEASE_KEY
from worker.delivery.rate import RateLimiter
from worker.delivery.store import claim_due


def busiest_second(times: list[datetime]) -> int:
    """The most sends in any window [t, t + 1 s), whatever t."""
    times = sorted(times)
    best, start = 0, 0
    for end, at in enumerate(times):
        while at - times[start] >= timedelta(seconds=1):
            start += 1
        best = max(best, end - start + 1)
    return best


async def test_the_limiter_never_lets_more_than_the_rate_through_in_any_second() -> None:
    clock = FrozenClock()
    limiter = RateLimiter(100, clock, frozen_sleep(clock))
    started = clock.now()

    times = [await limiter.acquire() for _ in range(350)]

    assert busiest_second(times) == 100
    assert clock.now() - started >= timedelta(seconds=3), "350 at 100/s takes over 3 s"


async def test_a_fractional_rate_spaces_sends_out() -> None:
    clock = FrozenClock()
    limiter = RateLimiter(0.5, clock, frozen_sleep(clock))

    times = [await limiter.acquire() for _ in range(3)]

    assert [t - times[0] for t in times] == [
        timedelta(0),
        timedelta(seconds=2),
        timedelta(seconds=4),
    ]


async def test_smtp_sends_follow_the_configured_rate(
    committed_engine: Engine, settings: Settings, smtp_sink: SmtpSink
) -> None:
    clock = FrozenClock()
    accepted_at: list[datetime] = []
    original = smtp_sink.handle_DATA

    async def stamp(*args: Any) -> str:
        accepted_at.append(clock.now())
        return await original(*args)

    smtp_sink.handle_DATA = stamp  # type: ignore[method-assign]
    try:
        with session_scope(committed_engine) as session:
            add_template(session)
            for i in range(23):
                queue(session, clock, add_contact(session, email=f"c{i}@example.com"), key=f"k{i}")
        rated = with_settings(settings, smtp_url=smtp_sink.url, smtp_rate_per_second=5)
        assert await drain(committed_engine, clock, rated) == {"sent": 23}
    finally:
        del smtp_sink.handle_DATA

    assert len(accepted_at) == 23
    assert busiest_second(accepted_at) == 5
    assert accepted_at[-1] - accepted_at[0] >= timedelta(seconds=4)


def test_two_workers_claiming_at_once_never_get_the_same_row(
    committed_engine: Engine,
) -> None:
    clock = FrozenClock()
    with session_scope(committed_engine) as session:
        add_template(session)
        for i in range(200):
            queue(session, clock, add_contact(session, email=f"c{i}@example.com"), key=f"k{i}")

    got: list[list[str]] = [[], [], [], []]
    barrier = threading.Barrier(4)

    def worker(n: int) -> None:
        barrier.wait()
        while rows := claim_due(committed_engine, clock.now(), 15, timedelta(minutes=5)):
            got[n].extend(row.key for row in rows)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    everything = [key for keys in got for key in keys]
    assert sorted(everything) == sorted(f"k{i}" for i in range(200))
    assert len(set(everything)) == 200, "no row was claimed twice"


async def test_only_one_worker_drains_at_a_time(
    committed_engine: Engine, settings: Settings, redis: Any
) -> None:
    clock = FrozenClock()
    with session_scope(committed_engine) as session:
        add_template(session)
        queue(session, clock, add_contact(session), key="k")
    await redis.set(LEASE_KEY, "another worker", px=60_000)

    assert await drain(committed_engine, clock, settings, redis=redis) == {"busy": 1}
    assert outbox(committed_engine)["k"].status == "pending"

    await redis.delete(LEASE_KEY)
    assert await drain(committed_engine, clock, settings, redis=redis) == {"sent": 1}
    assert await redis.get(LEASE_KEY) is None or await redis.pttl(LEASE_KEY) <= 1000
