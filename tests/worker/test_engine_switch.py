"""A switch routes each journey down the first case that holds, else down ``else``: a few
hundred contacts by city, counted exactly per output, with the explanation naming the case
taken and why the earlier ones did not hold (on SQLite and PostgreSQL)."""

from __future__ import annotations

import uuid
from collections import Counter
from typing import Any

import pytest
from sqlalchemy import insert, select
from sqlmodel import Session

from app.i18n.phrases import spoken
from app.i18n.speaker import speaking
from app.models import Contact, Event, StepLog
from tests.worker.engine_harness import Engine
from tests.worker.test_engine_journeys import graph

CITY = {"attribute": "city", "op": "eq", "value": ""}
ROUTE = graph(
    [
        {"id": "start", "type": "trigger", "kind": "event", "config": {"event": "signup"}},
        {"id": "route", "type": "condition", "kind": "switch", "config": {"cases": [
            {"port": "paris", "label": "Paris", "if": {**CITY, "value": "Paris"}},
            {"port": "lyon", "label": "Lyon", "if": {**CITY, "value": "Lyon"}},
            # Overlaps Paris: only those the first case did not take come here.
            {"port": "vip", "label": "VIP", "if": {"attribute": "score", "op": "gte", "value": 50}},
        ]}},
        {"id": "to_paris", "type": "action", "kind": "add_to_list", "config": {"list": "paris"}},
        {"id": "to_lyon", "type": "action", "kind": "add_to_list", "config": {"list": "lyon"}},
        {"id": "to_vip", "type": "action", "kind": "add_to_list", "config": {"list": "vip"}},
        {"id": "to_rest", "type": "action", "kind": "add_to_list", "config": {"list": "rest"}},
    ],
    [("start", "route"), ("route", "paris", "to_paris"), ("route", "lyon", "to_lyon"),
     ("route", "vip", "to_vip"), ("route", "else", "to_rest")],
    reentry="always",
)  # fmt: skip

# city, score, how many: 300 contacts in all.
PEOPLE = [
    ("Paris", 0, 90),
    ("paris", 80, 30),  # text is compared case-insensitively; Paris wins over VIP
    ("Lyon", 10, 70),
    ("Marseille", 70, 40),  # not Paris, not Lyon, but VIP
    ("Marseille", 0, 50),
    (None, 0, 20),  # no city at all: else
]


def signups(engine: Engine) -> dict[int, tuple[str | None, int]]:
    """The people, each with one signup event (two bulk inserts); id -> (city, score)."""
    tag = uuid.uuid4().hex[:6]
    rows = [
        {"email": f"{tag}-{group}-{n}@example.com", "email_consent": True, "score": score,
         "attributes": {} if city is None else {"city": city}}
        for group, (city, score, count) in enumerate(PEOPLE) for n in range(count)
    ]  # fmt: skip
    engine.session.execute(insert(Contact), rows)
    people = {
        c.id: (c.attributes.get("city"), c.score)
        for c in engine.session.execute(
            select(Contact).where(Contact.email.like(f"{tag}-%"))  # type: ignore[union-attr]
        ).scalars()
    }
    now = engine.clock.now()
    engine.session.execute(
        insert(Event),
        [
            {"uid": uuid.uuid4().hex, "contact_id": i, "name": "signup", "properties": {},
             "occurred_at": now, "received_at": now}
            for i in people
        ],
    )  # fmt: skip
    return people  # type: ignore[return-value]


def steps_at(session: Session, node: str) -> dict[int, dict[str, Any]]:
    rows = session.execute(
        select(StepLog.contact_id, StepLog.detail).where(StepLog.node_id == node)
    )
    return {contact_id: detail for contact_id, detail in rows}


@pytest.fixture
def engine(session: Session) -> Engine:
    engine = Engine(session)
    for key in ("paris", "lyon", "vip", "rest"):
        engine.list(key)
    return engine


def test_three_hundred_contacts_take_the_first_case_that_holds_else_else(engine: Engine) -> None:
    engine.scenario(ROUTE)
    signups(engine)

    engine.run()

    taken = Counter(d["switch"]["port"] for d in steps_at(engine.session, "route").values())
    assert taken == {"paris": 120, "lyon": 70, "vip": 40, "else": 70}
    assert len(engine.members("paris")) == 120
    assert len(engine.members("lyon")) == 70
    assert len(engine.members("vip")) == 40  # the 30 Parisians with 80 points went to Paris
    assert len(engine.members("rest")) == 70
    counted = {name: n for (_s, _v, node, name), n in engine.counters.items() if node == "route"}
    assert counted == {"entered": 300, "completed": 300}


def test_the_explanation_names_the_case_taken_and_why_the_earlier_ones_did_not(
    engine: Engine,
) -> None:
    engine.scenario(ROUTE)
    people = signups(engine)

    engine.run()

    details = steps_at(engine.session, "route")
    lyon = next(d for c, d in details.items() if people[c] == ("Lyon", 10))
    assert lyon["text"] == (
        "city was 'Lyon', needs = 'Lyon': not Paris (city was 'Lyon', needs = 'Paris') → Lyon"
    )
    assert [child["result"] for child in lyon["children"]] == [False, True]
    nowhere = next(d for c, d in details.items() if people[c] == (None, 0))
    assert nowhere["text"] == (
        "not Paris (city was not set, needs = 'Paris'); not Lyon (city was not set, needs ="
        " 'Lyon'); not VIP (score was 0, needs ≥ 50) → else"
    )
    assert nowhere["switch"] == {"port": "else", "case": None}
    first = next(d for c, d in details.items() if people[c] == ("Paris", 0))
    assert len(first["children"]) == 1  # first match wins: the later cases are not tested
    with speaking("fr"):
        assert spoken(lyon) == (
            "city : 'Lyon' — il fallait 'Lyon' : pas Paris (city : 'Lyon' — il fallait 'Paris')"
            " → Lyon"
        )
        assert spoken(nowhere).endswith("→ sinon")


def test_a_condition_sees_what_earlier_steps_of_the_same_journey_changed(engine: Engine) -> None:
    points = {"id": "points", "type": "action", "kind": "add_score", "config": {"points": 60}}
    scenario = engine.scenario(
        {
            **ROUTE,
            "nodes": [*ROUTE["nodes"], points],
            "edges": [
                {"from": "start", "to": "points"},
                {"from": "points", "to": "route"},
                *(e for e in ROUTE["edges"] if e["from"] != "start"),
            ],
        }
    )
    contact = engine.contact(attributes={"city": "Nantes"})
    engine.event(contact, "signup")

    engine.run()

    assert engine.journey(contact, scenario)[-2:] == [
        ("route", "completed"),
        ("to_vip", "completed"),
    ]
