"""Property: on random small graphs, contacts and event stories, a simulation predicts exactly
what the engine then does on a frozen clock — every block's counts and every journey."""

from __future__ import annotations

import itertools
import os
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, func, insert, select
from sqlmodel import Session

from app.graph import check_draft, compile_document
from app.models import (
    Contact,
    ContactList,
    Enrollment,
    Event,
    ListMembership,
    MessagePurpose,
    MessageTemplate,
    ScenarioVersion,
    StepLog,
)
from app.services.scenarios import scenarios
from app.services.scenarios.stats import version_stats
from tests.worker.engine_harness import Engine
from worker.simulation.replay import Window, simulate_chunk

START = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)
REPLAY_DAYS, HORIZON_DAYS = 3, 2
WINDOW = Window.of(START + timedelta(days=REPLAY_DAYS), REPLAY_DAYS, HORIZON_DAYS)

CONDITIONS = [
    {"attribute": "tier", "op": "gte", "value": 2},
    {"attribute": "score", "op": "gte", "value": 5},
    {"list": "vips", "op": "member"},
    {"event": "ping", "op": "count_gte", "value": 1, "within_days": 2},
    {"consent": "sms", "op": "granted"},
]
ACTIONS = [
    ("send_email", {"message": "mail"}),
    ("send_sms", {"message": "text"}),
    ("add_to_list", {"list": "vips"}),
    ("remove_from_list", {"list": "vips"}),
    ("add_score", {"points": 3}),
    ("update_attribute", {"attribute": "tier", "increment": 1}),
]


@st.composite
def journeys(draw: st.DrawFn) -> dict[str, Any]:
    """A tree of up to a dozen blocks after an event trigger (keyed or not)."""
    ids = (f"b{i}" for i in itertools.count())
    nodes: list[dict[str, Any]] = []
    edges: list[dict[str, Any]] = []
    keyed = draw(st.booleans())
    trigger: dict[str, Any] = {"event": "go", **({"key": "cart"} if keyed else {})}
    nodes.append({"id": "start", "type": "trigger", "kind": "event", "config": trigger})

    def grow(parent: str, port: str | None, depth: int) -> None:
        if depth > 3 or len(nodes) >= 12 or not draw(st.integers(0, 4)):
            return
        node_id = next(ids)
        edges.append({"from": parent, "to": node_id, **({"port": port} if port else {})})
        family = draw(st.sampled_from(["condition", "wait", "wait_for_event", "action"]))
        if family == "condition":
            rule = draw(st.sampled_from(CONDITIONS))
            nodes.append({"id": node_id, "type": "condition", "kind": "if", "config": {"if": rule}})
        elif family == "wait":
            seconds = draw(st.sampled_from([1800, 3600 * 5, 86400]))
            nodes.append({"id": node_id, "type": "delay", "kind": "wait",
                          "config": {"seconds": seconds}})  # fmt: skip
        elif family == "wait_for_event":
            config: dict[str, Any] = {
                "event": "ping",
                "timeout_seconds": draw(st.sampled_from([3600, 3600 * 6, 86400])),
            }
            if keyed and draw(st.booleans()):
                config["match_key"] = "cart"
            nodes.append(
                {"id": node_id, "type": "delay", "kind": "wait_for_event", "config": config}
            )
        else:
            kind, config = draw(st.sampled_from(ACTIONS))
            nodes.append({"id": node_id, "type": "action", "kind": kind, "config": config})
        ports = ["yes", "no"] if family in ("condition", "wait_for_event") else [None]
        for next_port in ports:
            grow(node_id, next_port, depth + 1)

    grow("start", None, 0)
    goal = draw(st.sampled_from([None, {"event": "stop"}, {"attribute": "tier", "op": "gte",
                                                           "value": 4}]))  # fmt: skip
    return {
        "schema": 1,
        "nodes": nodes,
        "edges": edges,
        "settings": {"reentry": draw(st.sampled_from(["once", "after_exit", "always"])),
                     "exit_when": goal},
    }  # fmt: skip


people = st.lists(
    st.fixed_dictionaries(
        {
            "tier": st.integers(0, 3),
            "score": st.sampled_from([0, 4, 10]),
            "email_consent": st.booleans(),
            "sms": st.booleans(),
            "vip": st.booleans(),
        }
    ),
    min_size=1,
    max_size=4,
)
stories = st.lists(
    st.tuples(
        st.integers(0, (REPLAY_DAYS * 24) - 1),  # hour it reached us, within the replay
        st.sampled_from([0, 15, 30]),  # minute
        st.integers(0, 3),  # whose (modulo the number of contacts)
        st.sampled_from(["go", "go", "ping", "stop"]),
        st.sampled_from(["a", "b"]),  # cart
        st.sampled_from([0, 0, 2]),  # hours earlier it happened
    ),
    max_size=14,
)


def _scene(session: Session, contacts: list[dict[str, Any]]) -> list[int]:
    session.add(MessageTemplate(key="mail", name="mail", subject="Hi",
                                purpose=MessagePurpose.marketing))  # fmt: skip
    session.add(MessageTemplate(key="text", name="text", channel="sms",  # type: ignore[arg-type]
                                purpose=MessagePurpose.marketing))  # fmt: skip
    vips = ContactList(key="vips", name="VIPs")
    session.add(vips)
    rows = [
        Contact(
            email=f"{uuid.uuid4().hex[:8]}@example.com",
            email_consent=person["email_consent"],
            phone="+33600000000" if person["sms"] else None,
            sms_consent=person["sms"],
            score=person["score"],
            attributes={"tier": person["tier"]},
        )
        for person in contacts
    ]
    session.add_all(rows)
    session.flush()
    for person, row in zip(contacts, rows, strict=True):
        if person["vip"]:
            session.add(ListMembership(list_id=vips.id, contact_id=row.id))  # type: ignore[arg-type]
    session.flush()
    return [row.id for row in rows]  # type: ignore[misc]


def _events(ids: list[int], story: list[tuple[Any, ...]], matched: bool) -> list[dict[str, Any]]:
    rows = []
    for hour, minute, who, name, cart, earlier in sorted(story, key=lambda s: (s[0], s[1])):
        received = WINDOW.start + timedelta(hours=hour, minutes=minute, seconds=1)
        rows.append(
            {"uid": uuid.uuid4().hex, "contact_id": ids[who % len(ids)], "name": name,
             "properties": {"cart": cart}, "occurred_at": received - timedelta(hours=earlier),
             "received_at": received, "processed_at": received if matched else None}
        )  # fmt: skip
    return rows


def _run_for_real(engine: Engine, events: list[dict[str, Any]]) -> None:
    """The engine from activation on: events reach it when they reached us (those of one
    moment together), and it runs whenever something is due, up to the horizon."""

    def next_due(before: datetime) -> datetime | None:
        due = engine.session.execute(
            select(func.min(Enrollment.wake_at)).where(Enrollment.wake_at > engine.clock.now())  # type: ignore[operator]
        ).scalar()
        return due if due is not None and due < before else None

    engine.run()
    for moment, group in itertools.groupby(events, key=lambda e: e["received_at"]):
        while (due := next_due(moment)) is not None:
            engine.clock.current = due
            engine.run()
        engine.session.execute(insert(Event), list(group))
        engine.clock.current = moment
        engine.run()
    while (due := next_due(WINDOW.end + timedelta(seconds=1))) is not None:
        engine.clock.current = due
        engine.run()


def _journeys(session: Session, scenario_id: int) -> dict[str, list[tuple[str, str, str]]]:
    found: dict[str, list[tuple[str, str, str]]] = {}
    query = select(StepLog).where(StepLog.scenario_id == scenario_id).order_by(StepLog.id)  # type: ignore[arg-type]
    for step in session.execute(query).scalars():
        found.setdefault(str(step.contact_id), []).append(
            (step.node_id, step.outcome, step.at.isoformat())
        )
    return found


@settings(
    max_examples=int(os.environ.get("PARCOURS_SIMULATION_EXAMPLES", "30")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(graph=journeys(), contacts=people, story=stories)
def test_a_simulation_predicts_the_engine_on_any_small_scenario(
    session: Session,
    graph: dict[str, Any],
    contacts: list[dict[str, Any]],
    story: list[tuple[Any, ...]],
) -> None:
    savepoint = session.begin_nested()
    try:
        ids = _scene(session, contacts)
        document, issues = check_draft(graph)
        assert document is not None, issues
        plan = compile_document(document)
        if story:
            session.execute(insert(Event), _events(ids, story, matched=True))
        predicted = simulate_chunk(session, plan, ids, WINDOW)

        session.execute(delete(Event))
        engine = Engine(session)
        engine.clock.current = WINDOW.start
        scenario = scenarios.create_scenario(session, name="P", graph=graph, now=WINDOW.start)
        scenarios.activate(session, scenario.id, now=WINDOW.start)  # type: ignore[arg-type]
        session.flush()
        _run_for_real(engine, _events(ids, story, matched=False))

        event(f"entered: {min(predicted.entered, 3)}+, steps: {min(predicted.steps // 10, 3)}0+")
        version = session.execute(select(ScenarioVersion)).scalars().one()
        real = version_stats(session, version)
        assert {n: {k: v for k, v in c.items() if v} for n, c in predicted.nodes.items()} == {
            n: {k: v for k, v in c.model_dump().items() if v} for n, c in real.nodes.items()
        }
        real_journeys = _journeys(session, scenario.id)  # type: ignore[arg-type]
        for contact, steps in predicted.journeys.items():
            simulated = [(s["node_id"], s["outcome"], s["at"]) for s in steps]
            assert simulated == real_journeys.get(contact), contact
    finally:
        savepoint.rollback()
