"""A switch is predicted journey by journey: the simulation routes each contact down the case
the engine then takes for real, so every output's count agrees (CONTRACTS-2 §A)."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import Engine, insert
from sqlmodel import Session

from app.db import session_scope
from app.models import Contact, Event
from app.services.scenarios import scenarios
from tests.worker.test_engine_journeys import graph
from tests.worker.test_simulation_agreement import (
    START,
    _counts,
    _real_counts,
    _run_for_real,
    _simulate,
)

ROUTE = graph(
    [
        {"id": "signed", "type": "trigger", "kind": "event", "config": {"event": "signup"}},
        {"id": "route", "type": "condition", "kind": "switch", "config": {"cases": [
            {"port": "paris", "label": "Paris",
             "if": {"attribute": "city", "op": "eq", "value": "Paris"}},
            {"port": "active", "label": "Active",
             "if": {"event": "page_viewed", "op": "count_gte", "value": 2, "within_days": 7}},
        ]}},
        {"id": "to_paris", "type": "action", "kind": "add_score", "config": {"points": 5}},
        {"id": "later", "type": "delay", "kind": "wait", "config": {"seconds": 86_400}},
        {"id": "to_active", "type": "action", "kind": "add_score", "config": {"points": 1}},
        {"id": "to_rest", "type": "action", "kind": "add_score", "config": {"points": 2}},
    ],
    [("signed", "route"), ("route", "paris", "to_paris"), ("route", "active", "later"),
     ("later", "to_active"), ("route", "else", "to_rest")],
    reentry="always",
)  # fmt: skip


async def test_the_simulation_predicts_each_output_of_a_switch(
    committed_engine: Engine,
    redis,  # type: ignore[no-untyped-def]
    redis_url: str,
) -> None:
    with session_scope(committed_engine) as session:
        people = [
            Contact(email=f"s{i}@example.com", email_consent=True,
                    attributes={"city": "Paris" if i % 3 == 0 else "Lyon"})
            for i in range(30)
        ]  # fmt: skip
        session.add_all(people)
        session.flush()
        scenario = scenarios.create_scenario(session, name="Route", graph=ROUTE, now=START)
        scenario_id, ids = scenario.id, [p.id for p in people]
    assert scenario_id is not None
    rows = []
    for n, who in enumerate(ids):
        at = START + timedelta(hours=1 + n)
        # Every other Lyon contact has looked around twice before signing up: "Active".
        looks = 2 if n % 2 else 0
        for look in range(looks):
            rows.append(_event(who, "page_viewed", at - timedelta(minutes=10 - look)))
        rows.append(_event(who, "signup", at))
    with session_scope(committed_engine) as session:
        session.execute(insert(Event), [{**r, "processed_at": r["received_at"]} for r in rows])
    predicted = _simulate(committed_engine, scenario_id, ROUTE)

    with Session(committed_engine) as session, session.begin():
        session.execute(Event.__table__.delete())  # type: ignore[attr-defined]
    await _run_for_real(committed_engine, redis_url, scenario_id, rows)

    real = _real_counts(committed_engine)
    assert _counts(predicted) == real
    assert real["route"] == {"entered": 30, "completed": 30}
    assert real["to_paris"]["entered"] == 10  # Paris first, active or not
    assert real["later"]["entered"] == 10  # the active ones in Lyon
    assert real["to_rest"]["entered"] == 10


def _event(who: int, name: str, at: object) -> dict[str, object]:
    return {"uid": uuid.uuid4().hex, "contact_id": who, "name": name, "properties": {},
            "occurred_at": at, "received_at": at}  # fmt: skip
