"""Two marketers publish the same change with a migration at the same moment: one wins, the
other gets a clear 409, and the contacts are moved once (CONTRACTS-2 §B).

The requests really commit and run side by side in the server's thread pool: on PostgreSQL
both read the live version before either writes, and the compare-and-set on the scenario's
row decides; on SQLite writers take turns and the second sees a plan made against a version
no longer live.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
from sqlalchemy import Engine, insert
from sqlmodel import Session, col, func, select

from app.clock import FrozenClock
from app.config import Settings
from app.db import read_only, session_scope
from app.main import create_app
from app.models import Contact, Enrollment, Event, MessageTemplate, ScenarioVersion, StepLog
from app.services.account.api_keys import create_api_key
from app.services.scenarios import scenarios
from tests.api.publish_kit import LIVE, SHORTER
from worker.engine.plans import Plans
from worker.engine.triggers import match_events

PEOPLE = 20


def _parked_on_version_1(engine: Engine, clock: FrozenClock) -> int:
    with session_scope(engine) as session:
        session.add(MessageTemplate(key="reminder", name="reminder", subject="Still there?"))
        scenario = scenarios.create_scenario(session, name="Welcome", graph=LIVE, now=clock.now())
        assert scenario.id is not None
        scenarios.activate(session, scenario.id, now=clock.now())
        people = [Contact(email=f"{uuid.uuid4().hex[:10]}@example.com") for _ in range(PEOPLE)]
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
        scenario_id = scenario.id
    plans = Plans()
    while True:  # on PostgreSQL one batch takes one share of the contacts
        with session_scope(engine) as session:
            if match_events(session, plans, clock.now()) is None:
                break
    with session_scope(engine) as session:
        revision = scenarios.get_scenario(session, scenario_id).draft_revision
        scenarios.save_draft(session, scenario_id, SHORTER, revision=revision, now=clock.now())
    return scenario_id


async def test_of_two_publishes_at_once_one_wins_and_the_other_is_told_to_look_again(
    committed_engine: Engine, settings: Settings, redis: Any
) -> None:
    clock = FrozenClock()
    scenario_id = _parked_on_version_1(committed_engine, clock)
    with session_scope(committed_engine) as session:
        _, key = create_api_key(session, name="Two marketers")
    body = {"migration": {"wait3": {"action": "move", "to": "wait1"}}, "from_version": 1}
    app = create_app(settings)

    async with app.router.lifespan_context(app):
        app.state.clock = clock
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            answers = await asyncio.gather(
                *(
                    client.post(
                        f"/api/v1/scenarios/{scenario_id}/activate",
                        json=body,
                        headers={"Authorization": f"Bearer {key}"},
                    )
                    for _ in range(2)
                )
            )

    assert sorted(a.status_code for a in answers) == [200, 409], [a.text for a in answers]
    (won,) = [a for a in answers if a.status_code == 200]
    assert won.json()["migrated"] == {"moved": PEOPLE, "exited": 0}
    (lost,) = [a for a in answers if a.status_code == 409]
    assert "reload it" in lost.json()["detail"] or "look at the plan again" in lost.json()["detail"]
    with Session(read_only(committed_engine)) as session:
        numbers = session.exec(select(ScenarioVersion.number)).all()
        moved = session.exec(
            select(Enrollment.node_id, func.count()).group_by(Enrollment.node_id)
        ).all()  # type: ignore[arg-type]
        rows = session.exec(
            select(func.count()).select_from(StepLog).where(col(StepLog.outcome) == "migrated")
        ).one()
    assert sorted(numbers) == [1, 2]
    assert moved == [("wait1", PEOPLE)]
    assert rows == PEOPLE
