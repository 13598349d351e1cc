"""A random split is predicted journey by journey: the simulation draws each journey's branch
as the engine then does for real, so every branch's count agrees (CONTRACTS-2 §A)."""

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

AB = graph(
    [
        {"id": "signed", "type": "trigger", "kind": "event", "config": {"event": "signup"}},
        {"id": "ab", "type": "condition", "kind": "random_split", "config": {"branches": [
            {"port": "a", "label": "A", "percent": 40},
            {"port": "b", "label": "B", "percent": 40},
            {"port": "h", "label": "Holdout", "percent": 20},
        ]}},
        {"id": "now", "type": "action", "kind": "add_score", "config": {"points": 5}},
        {"id": "later", "type": "delay", "kind": "wait", "config": {"seconds": 86_400}},
        {"id": "then", "type": "action", "kind": "add_score", "config": {"points": 1}},
    ],
    [("signed", "ab"), ("ab", "a", "now"), ("ab", "b", "later"), ("later", "then")],
    reentry="always",
)  # fmt: skip


async def test_the_simulation_predicts_each_branch_of_a_split(
    committed_engine: Engine,
    redis,  # type: ignore[no-untyped-def]
    redis_url: str,
) -> None:
    with session_scope(committed_engine) as session:
        people = [Contact(email=f"s{i}@example.com", email_consent=True) for i in range(40)]
        session.add_all(people)
        session.flush()
        scenario = scenarios.create_scenario(session, name="A/B", graph=AB, now=START)
        scenario_id, ids = scenario.id, [p.id for p in people]
    assert scenario_id is not None
    rows = [
        {"uid": uuid.uuid4().hex, "contact_id": who, "name": "signup", "properties": {},
         "occurred_at": START + timedelta(hours=1 + n % 50), "received_at": START + timedelta(hours=1 + n % 50)}
        for n, who in enumerate(ids + ids[:10])  # ten sign up twice: two journeys, two draws
    ]  # fmt: skip
    with session_scope(committed_engine) as session:
        session.execute(insert(Event), [{**r, "processed_at": r["received_at"]} for r in rows])
    predicted = _simulate(committed_engine, scenario_id, AB)

    with Session(committed_engine) as session, session.begin():
        session.execute(Event.__table__.delete())  # type: ignore[attr-defined]
    await _run_for_real(committed_engine, redis_url, scenario_id, rows)

    real = _real_counts(committed_engine)
    assert _counts(predicted) == real
    assert real["signed"]["entered"] == 50
    branches = (real["now"]["entered"], real["later"]["entered"])
    assert sum(branches) < 50, "the holdout took some"
    assert all(branches)
