"""After a publish moved contacts between versions, the hot block counters in Redis say what
the step log says, for both versions, through the real worker tasks (CONTRACTS-2 §B)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from arq import create_pool
from sqlalchemy import Engine, insert
from sqlmodel import Session, col, func, select

from app.clock import FrozenClock
from app.config import Settings
from app.db import read_only, session_scope
from app.main import create_app
from app.models import Contact, Event, MessageTemplate, ScenarioVersion, StepLog
from app.services.account.api_keys import create_api_key
from app.services.insights.live_counters import hot_counters
from app.services.scenarios import scenarios
from app.services.scenarios.stats import version_stats
from tests.api.publish_kit import LIVE, SHORTER
from worker.engine import tasks
from worker.engine.plans import Plans
from worker.queue import redis_settings

PEOPLE = 7


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
async def worker_ctx(
    committed_engine: Engine, redis: Any, redis_url: str, clock: FrozenClock
) -> AsyncIterator[dict[str, Any]]:
    pool = await create_pool(redis_settings(redis_url))
    yield {
        "engine": committed_engine,
        "clock": clock,
        "redis": pool,
        "lanes": 1,
        "chunk_size": 3,  # several chunks, several publishes
        "running": {},
        "plans": Plans(),
    }
    await pool.aclose()


def _live_scenario(engine: Engine, clock: FrozenClock) -> tuple[int, int]:
    with session_scope(engine) as session:
        session.add(MessageTemplate(key="reminder", name="reminder", subject="Still there?"))
        scenario = scenarios.create_scenario(session, name="Welcome", graph=LIVE, now=clock.now())
        assert scenario.id is not None
        _, version, _ = scenarios.activate(session, scenario.id, now=clock.now())
        assert version.id is not None
        people = [
            Contact(email=f"{uuid.uuid4().hex[:10]}@example.com", email_consent=True)
            for _ in range(PEOPLE)
        ]
        session.add_all(people)
        session.flush()
        session.execute(
            insert(Event),
            [
                {"uid": uuid.uuid4().hex, "contact_id": p.id, "name": "signup", "properties": {},
                 "occurred_at": clock.now(), "received_at": clock.now()}
                for p in people
            ],
        )  # fmt: skip
        return scenario.id, version.id


def _save_draft(engine: Engine, clock: FrozenClock, scenario_id: int) -> None:
    with session_scope(engine) as session:
        revision = scenarios.get_scenario(session, scenario_id).draft_revision
        scenarios.save_draft(session, scenario_id, SHORTER, revision=revision, now=clock.now())


async def _publish(
    settings: Settings, engine: Engine, clock: FrozenClock, scenario_id: int, body: dict[str, Any]
) -> httpx.Response:
    """Through the API, background tasks and all, as a marketer's publish goes."""
    with session_scope(engine) as session:
        _, key = create_api_key(session, name="Shop")
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        app.state.clock = clock
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            return await client.post(
                f"/api/v1/scenarios/{scenario_id}/activate",
                json=body,
                headers={"Authorization": f"Bearer {key}"},
            )


def _truth(engine: Engine, version_id: int) -> dict[str, dict[str, int]]:
    with Session(read_only(engine)) as session:
        stats = version_stats(session, session.get(ScenarioVersion, version_id))
    return {
        node: {k: v for k, v in block.model_dump().items() if v}
        for node, block in stats.nodes.items()
        if any(block.model_dump().values())
    }


async def _hot(redis: Any, version_id: int) -> dict[str, dict[str, int]] | None:
    nodes = (await hot_counters(redis, [version_id])).get(version_id)
    if nodes is None:
        return None
    return {n: {k: v for k, v in c.items() if v} for n, c in nodes.items() if any(c.values())}


def _new_version(engine: Engine, scenario_id: int) -> int:
    with Session(read_only(engine)) as session:
        found = session.exec(
            select(ScenarioVersion.id).where(
                ScenarioVersion.scenario_id == scenario_id, ScenarioVersion.number == 2
            )
        ).one()
        assert found is not None
        return found


def _migrated_rows(engine: Engine) -> int:
    with Session(read_only(engine)) as session:
        query = select(func.count()).select_from(StepLog).where(col(StepLog.outcome) == "migrated")
        return session.exec(query).one()


@pytest.mark.parametrize("timers", ["keep", "restart"])
async def test_the_hot_counters_of_both_versions_agree_with_the_step_log_after_a_move(
    worker_ctx: dict[str, Any],
    committed_engine: Engine,
    clock: FrozenClock,
    settings: Settings,
    timers: str,
) -> None:
    redis = worker_ctx["redis"]
    scenario_id, first = _live_scenario(committed_engine, clock)
    await tasks.match_triggers(worker_ctx)  # all parked on the three days, counted hot
    assert await _hot(redis, first) == _truth(committed_engine, first)
    _save_draft(committed_engine, clock, scenario_id)

    answer = await _publish(
        settings,
        committed_engine,
        clock,
        scenario_id,
        {"migration": {"wait3": {"action": "move", "to": "wait1"}}, "timers": timers},
    )

    assert answer.status_code == 200, answer.text
    assert answer.json()["migrated"] == {"moved": PEOPLE, "exited": 0}
    second = _new_version(committed_engine, scenario_id)
    # Until the engine rebuilds them, readers read both versions from the step log.
    assert await _hot(redis, first) is None
    assert await _hot(redis, second) is None
    await tasks.advance(worker_ctx)  # restarted ones park on the one day now
    await tasks.recheck_counters(worker_ctx)  # the engine idle: lost versions rebuilt
    parked = {"wait1": {"entered": PEOPLE, "waiting": PEOPLE}}
    assert _truth(committed_engine, second) == parked
    assert _truth(committed_engine, first) == {
        "start": {"entered": PEOPLE, "completed": PEOPLE},
        "wait3": {"entered": PEOPLE},
    }
    assert await _hot(redis, first) == _truth(committed_engine, first)
    assert await _hot(redis, second) == _truth(committed_engine, second)
    assert _migrated_rows(committed_engine) == PEOPLE

    clock.advance(days=3)
    await tasks.advance(worker_ctx)

    done = {
        "wait1": {"entered": PEOPLE, "completed": PEOPLE},
        "reminder": {"entered": PEOPLE, "completed": PEOPLE},
    }
    assert _truth(committed_engine, second) == done
    assert await _hot(redis, second) == done
