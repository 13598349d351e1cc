"""The worker runs jobs from the real Redis queue against the real database."""

from __future__ import annotations

from datetime import timedelta

from arq.jobs import Job
from arq.worker import Worker
from sqlalchemy import Engine

from app.clock import FrozenClock
from app.db import session_scope
from app.models import (
    Contact,
    Enrollment,
    EnrollmentState,
    Scenario,
    ScenarioStatus,
    ScenarioVersion,
)
from app.queue import Queue
from worker.queue import QUEUE_NAME, redis_settings
from worker.settings import WorkerSettings


def make_worker(redis_url: str, engine: Engine, clock: FrozenClock) -> Worker:
    return Worker(
        functions=WorkerSettings.functions,
        redis_settings=redis_settings(redis_url),
        queue_name=QUEUE_NAME,
        burst=True,
        poll_delay=0.05,
        on_startup=WorkerSettings.on_startup,
        on_shutdown=WorkerSettings.on_shutdown,
        ctx={"engine": engine, "clock": clock},
        handle_signals=False,
    )


def park_contacts(engine: Engine, clock: FrozenClock, wake_in: list[timedelta]) -> None:
    with session_scope(engine) as session:
        scenario = Scenario(name="Welcome", status=ScenarioStatus.active)
        session.add(scenario)
        session.flush()
        version = ScenarioVersion(scenario_id=scenario.id, number=1)  # type: ignore[arg-type]
        session.add(version)
        session.flush()
        for i, delta in enumerate(wake_in):
            contact = Contact(email=f"c{i}@example.com")
            session.add(contact)
            session.flush()
            session.add(
                Enrollment(
                    scenario_id=scenario.id,  # type: ignore[arg-type]
                    version_id=version.id,  # type: ignore[arg-type]
                    contact_id=contact.id,  # type: ignore[arg-type]
                    node_id="wait",
                    state=EnrollmentState.waiting,
                    wake_at=clock.now() + delta,
                )
            )


async def test_sweep_wakes_the_engine_when_timers_are_due(
    redis_url: str,
    redis,
    committed_engine: Engine,  # type: ignore[no-untyped-def]
) -> None:
    clock = FrozenClock()
    park_contacts(
        committed_engine, clock, [timedelta(minutes=-5), timedelta(0), timedelta(hours=2)]
    )
    queue = await Queue.connect(redis_url)
    assert await queue.enqueue("sweep", job_id="sweep-now")

    worker = make_worker(redis_url, committed_engine, clock)
    await worker.main()
    result = await Job("sweep-now", queue.redis, _queue_name=QUEUE_NAME).result(timeout=5)
    await worker.close()

    assert result == {"advance": True, "match_triggers": False, "deliver_outbox": False}
    assert (await redis.get("parcours:sweep:last")).decode() == clock.now().isoformat()
    await queue.close()


async def test_the_same_job_id_is_queued_once(redis_url: str, redis) -> None:  # type: ignore[no-untyped-def]
    queue = await Queue.connect(redis_url)

    assert await queue.enqueue("sweep", job_id="once")
    assert not await queue.enqueue("sweep", job_id="once")
    await queue.close()


def test_worker_settings_poll_fast_and_bound_every_job() -> None:
    assert WorkerSettings.poll_delay <= 0.1
    assert WorkerSettings.job_timeout <= 60
    assert WorkerSettings.max_tries >= 3
    assert WorkerSettings.health_check_interval > 0


async def test_kicks_coalesce_while_one_is_waiting(redis_url: str, redis) -> None:  # type: ignore[no-untyped-def]
    queue = await Queue.connect(redis_url)

    await queue.kick("sweep")
    await queue.kick("sweep")

    assert await redis.zcard(QUEUE_NAME) == 1
    await queue.close()
