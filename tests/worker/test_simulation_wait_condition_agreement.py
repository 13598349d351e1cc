"""A wait for a condition is predicted as the engine then runs it: the simulation wakes the
same waits on the same changes — an event it counts, a list another journey joins —, lets the
others time out at the same deadline, and every block's count agrees (CONTRACTS-2 §A, §D)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine, insert
from sqlmodel import Session

from app.db import session_scope
from app.graph import check_draft, compile_document
from app.models import Contact, ContactList, Event
from app.services.scenarios import scenarios
from tests.worker.test_engine_journeys import graph
from tests.worker.test_simulation_agreement import (
    START,
    _counts,
    _real_counts,
    _real_journeys,
    _run_for_real,
    _simulate,
)
from worker.simulation.replay import ChunkResult
from worker.simulation.run import warnings

TRIAL = graph(
    [
        {"id": "trial", "type": "trigger", "kind": "event", "config": {"event": "trial_started"}},
        {"id": "paid", "type": "delay", "kind": "wait_for_condition", "config": {
            "if": {"any": [{"event": "purchase", "op": "count_gte", "value": 1},
                           {"list": "customers", "op": "member"}]},
            "timeout_seconds": 2 * 86_400}},
        {"id": "thanks", "type": "action", "kind": "add_score", "config": {"points": 10}},
        {"id": "nudge", "type": "action", "kind": "add_score", "config": {"points": 1}},
        {"id": "invoice", "type": "trigger", "kind": "event", "config": {"event": "invoice_paid"}},
        {"id": "join", "type": "action", "kind": "add_to_list", "config": {"list": "customers"}},
    ],
    [("trial", "paid"), ("paid", "yes", "thanks"), ("paid", "no", "nudge"), ("invoice", "join")],
    reentry="always",
)  # fmt: skip

# (hours after START it reached us, who, event)
STORY: list[tuple[float, str, str]] = [
    (2, "bought-before", "purchase"),
    (3, "bought-before", "trial_started"),  # true on arrival: YES at once
    (10, "buyer", "trial_started"),
    (15, "buyer", "purchase"),  # becomes true: YES then
    (20, "invoiced", "trial_started"),
    (30, "invoiced", "invoice_paid"),  # another journey adds them to the list: YES
    (40, "never", "trial_started"),  # times out: NO
    (50, "late", "trial_started"),
    (99, "late", "purchase"),  # after its deadline: NO
    (60, "bystander", "page_viewed"),
]


async def test_the_simulation_predicts_each_wait_for_a_condition(
    committed_engine: Engine,
    redis,  # type: ignore[no-untyped-def]
    redis_url: str,
) -> None:
    people = sorted({who for _, who, _ in STORY})
    with session_scope(committed_engine) as session:
        session.add(ContactList(key="customers", name="Customers"))
        contacts = {who: Contact(email=f"{who}@example.com", email_consent=True) for who in people}
        session.add_all(contacts.values())
        session.flush()
        scenario = scenarios.create_scenario(session, name="Trial", graph=TRIAL, now=START)
        scenario_id, ids = scenario.id, {who: c.id for who, c in contacts.items()}
    assert scenario_id is not None
    rows: list[dict[str, Any]] = [
        {"uid": uuid.uuid4().hex, "contact_id": ids[who], "name": name, "properties": {},
         "occurred_at": START + timedelta(hours=hours), "received_at": START + timedelta(hours=hours)}
        for hours, who, name in sorted(STORY)
    ]  # fmt: skip
    with session_scope(committed_engine) as session:
        session.execute(insert(Event), [{**r, "processed_at": r["received_at"]} for r in rows])
    predicted = _simulate(committed_engine, scenario_id, TRIAL)

    with Session(committed_engine) as session, session.begin():
        session.execute(Event.__table__.delete())  # type: ignore[attr-defined]
    await _run_for_real(committed_engine, redis_url, scenario_id, rows)

    real = _real_counts(committed_engine)
    assert _counts(predicted) == real
    assert real["paid"] == {"entered": 5, "yes": 3, "no": 2}
    assert real["thanks"]["entered"] == 3
    assert predicted["journeys"] == _real_journeys(committed_engine, predicted["journeys"])


def test_a_wait_on_opens_warns_that_simulated_messages_are_never_opened() -> None:
    opened = {"event": "email_opened", "op": "count_gte", "value": 1}
    raw = {**TRIAL, "nodes": [
        {**n, "config": {**n["config"], "if": opened}} if n["id"] == "paid" else n
        for n in TRIAL["nodes"]
    ]}  # fmt: skip
    document, _ = check_draft(raw)
    assert document is not None

    found = warnings(ChunkResult(), compile_document(document))

    assert {"node": "paid", "code": "tracking_not_predicted", "event": "email_opened"} in found
