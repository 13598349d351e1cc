"""A random split sends each journey down one branch by its percentage, the same one every
time: the draw is a hash of the journey and the block, so a replayed chunk and the simulation
take the branch the first run took."""

from __future__ import annotations

import uuid
from collections import Counter
from typing import Any

import pytest
from sqlalchemy import insert, select
from sqlmodel import Session

from app.graph.split_blocks import RandomSplitConfig, draw
from app.models import Contact, Enrollment, Event, StepLog
from tests.worker.engine_harness import Engine
from worker.engine.steps.split import journey_key, split_detail
from worker.engine.visit import Visit

CONTACTS = 2_000
BRANCHES = [
    {"port": "a", "label": "Welcome A", "percent": 50},
    {"port": "b", "label": "Welcome B", "percent": 30},
    {"port": "hold", "label": "Holdout", "percent": 20},
]
SPLIT_GRAPH: dict[str, Any] = {
    "schema": 1,
    "nodes": [
        {"id": "start", "type": "trigger", "kind": "event", "config": {"event": "signup"}},
        {"id": "ab", "type": "condition", "kind": "random_split", "config": {"branches": BRANCHES}},
        {"id": "to_a", "type": "action", "kind": "add_to_list", "config": {"list": "got-a"}},
        {"id": "to_b", "type": "action", "kind": "add_to_list", "config": {"list": "got-b"}},
    ],
    "edges": [
        {"from": "start", "to": "ab"},
        {"from": "ab", "port": "a", "to": "to_a"},
        {"from": "ab", "port": "b", "to": "to_b"},
    ],
    "settings": {"reentry": "always"},
}


def signups(engine: Engine, count: int) -> None:
    """``count`` new contacts, each with one signup event (two bulk inserts)."""
    tag = uuid.uuid4().hex[:6]
    engine.session.execute(
        insert(Contact),
        [{"email": f"{tag}-{n}@example.com", "email_consent": True} for n in range(count)],
    )
    ids = engine.session.execute(
        select(Contact.id).where(Contact.email.like(f"{tag}-%"))  # type: ignore[union-attr]
    ).scalars()
    now = engine.clock.now()
    engine.session.execute(
        insert(Event),
        [
            {"uid": uuid.uuid4().hex, "contact_id": i, "name": "signup", "properties": {},
             "occurred_at": now, "received_at": now}
            for i in ids
        ],
    )  # fmt: skip


def branch_taken(session: Session, scenario_id: int) -> dict[int, str]:
    rows = session.execute(
        select(StepLog.enrollment_id, StepLog.detail).where(
            StepLog.scenario_id == scenario_id, StepLog.node_id == "ab"
        )
    )
    return {enrollment: detail["split"]["port"] for enrollment, detail in rows}


def read(enrollment: Enrollment) -> Visit:
    """The journey as the engine reads it back from its row (a chunk run again)."""
    visit = Visit.__new__(Visit)
    visit.id, visit.contact_id = enrollment.id or 0, enrollment.contact_id
    visit.trigger_at = enrollment.trigger_at or enrollment.entered_at
    return visit


@pytest.fixture
def engine(session: Session) -> Engine:
    return Engine(session)


def test_two_thousand_contacts_share_the_branches_as_the_hash_draws_them(engine: Engine) -> None:
    engine.list("got-a")
    engine.list("got-b")
    scenario = engine.scenario(SPLIT_GRAPH)
    signups(engine, CONTACTS)

    engine.run()

    enrollments = engine.enrollments(scenario)
    taken = branch_taken(engine.session, scenario.id or 0)
    config = RandomSplitConfig.model_validate({"branches": BRANCHES})
    expected = {
        e.id: split_detail(config, draw(journey_key(read(e)), "ab"))[0] for e in enrollments
    }
    counts = Counter(taken.values())
    assert len(enrollments) == CONTACTS
    assert taken == expected
    assert sum(counts.values()) == CONTACTS
    for branch in BRANCHES:  # 2,000 draws: each share within 3 points of its percentage
        assert abs(counts[branch["port"]] / CONTACTS * 100 - branch["percent"]) < 3
    assert len(engine.members("got-a")) == counts["a"]
    assert len(engine.members("got-b")) == counts["b"]
    held = [e for e in enrollments if taken[e.id] == "hold"]
    assert all(e.state == "completed" and e.node_id == "ab" for e in held)


def test_the_explanation_says_the_draw_and_the_branch_in_french_too(engine: Engine) -> None:
    engine.list("got-a")
    engine.list("got-b")
    scenario = engine.scenario(SPLIT_GRAPH)
    signups(engine, 1)

    engine.run()

    detail = engine.session.execute(
        select(StepLog.detail).where(StepLog.scenario_id == scenario.id, StepLog.node_id == "ab")
    ).scalar_one()
    number = detail["split"]["draw"]
    low, high = {"a": (0, 50), "b": (50, 80), "hold": (80, 100)}[detail["split"]["port"]]
    assert low <= number < high
    assert detail["text"].startswith(f"drew {number} of 100 → branch ")
    assert detail["text"].endswith(f"({low}–{high})")  # noqa: RUF001
    assert detail["say"]["say"] == "drew %(draw)s of 100 → branch %(branch)s (%(low)s–%(high)s)"  # noqa: RUF001


def test_a_journey_replayed_or_read_back_draws_the_same_branch(engine: Engine) -> None:
    engine.list("got-a")
    engine.list("got-b")
    scenario = engine.scenario(SPLIT_GRAPH)
    signups(engine, 50)
    engine.run()
    first = branch_taken(engine.session, scenario.id or 0)

    enrollments: list[Enrollment] = engine.enrollments(scenario)
    config = RandomSplitConfig.model_validate({"branches": BRANCHES})
    for enrollment in enrollments:
        again = split_detail(config, draw(journey_key(read(enrollment)), "ab"))[0]
        assert again == first[enrollment.id]
