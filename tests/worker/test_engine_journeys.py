"""Contacts travel through scenarios as drawn: triggers, conditions, delays and actions."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import Session

from app.models import EnrollmentState
from tests.worker.engine_harness import Engine


def graph(
    nodes: list[dict[str, Any]], edges: list[tuple[str, ...]], **settings: Any
) -> dict[str, Any]:
    return {
        "schema": 1,
        "nodes": [{"id": n.pop("id"), **n} for n in nodes],
        "edges": [
            {"from": e[0], "to": e[-1], **({"port": e[1]} if len(e) == 3 else {})} for e in edges
        ],
        "settings": settings,
    }


LOYALTY = graph(
    [
        {"id": "bought", "type": "trigger", "kind": "event", "config": {"event": "purchase"}},
        {
            "id": "first",
            "type": "condition",
            "kind": "if",
            "config": {"if": {"attribute": "orders_count", "op": "eq", "value": 1}},
        },
        {
            "id": "coupon",
            "type": "action",
            "kind": "send_email",
            "config": {"message": "coupon-20"},
        },
        {
            "id": "loyal",
            "type": "action",
            "kind": "add_to_list",
            "config": {"list": "loyal-customers"},
        },
    ],
    [("bought", "first"), ("first", "yes", "coupon"), ("first", "no", "loyal")],
)


@pytest.fixture
def engine(session: Session) -> Engine:
    return Engine(session)


@pytest.fixture
def loyalty(engine: Engine):  # type: ignore[no-untyped-def]
    engine.message("coupon-20")
    engine.list("loyal-customers")
    return engine.scenario(LOYALTY)


def test_first_purchase_gets_the_coupon_and_repeat_buyers_join_the_loyal_list(
    engine: Engine, loyalty
) -> None:  # type: ignore[no-untyped-def]
    first = engine.contact("first@example.com", attributes={"orders_count": 1})
    repeat = engine.contact("repeat@example.com", attributes={"orders_count": 3})
    engine.event(first, "purchase", total=30)
    engine.event(repeat, "purchase", total=80)

    engine.run()

    assert engine.sent() == [(first.id, "email", "coupon-20")]
    assert engine.members("loyal-customers") == {repeat.id}
    assert engine.journey(first, loyalty) == [
        ("bought", "completed"),
        ("first", "yes"),
        ("coupon", "completed"),
    ]
    assert engine.journey(repeat, loyalty) == [
        ("bought", "completed"),
        ("first", "no"),
        ("loyal", "completed"),
    ]
    assert {e.state for e in engine.enrollments(loyalty)} == {EnrollmentState.completed}
    assert engine.system_events("list_added") == 1


def test_a_condition_step_keeps_its_explanation(engine: Engine, loyalty) -> None:  # type: ignore[no-untyped-def]
    repeat = engine.contact(attributes={"orders_count": 3})
    engine.event(repeat, "purchase")
    engine.run()

    from sqlmodel import select

    from app.models import StepLog

    step = engine.session.exec(select(StepLog).where(StepLog.node_id == "first")).one()
    assert step.detail is not None
    assert step.detail["text"] == "orders count was 3, needs = 1 → no"


def test_the_same_event_delivered_twice_enrolls_once(engine: Engine, loyalty) -> None:  # type: ignore[no-untyped-def]
    buyer = engine.contact(attributes={"orders_count": 1})
    engine.event(buyer, "purchase", uid="order-42")
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError), engine.session.begin_nested():
        engine.event(buyer, "purchase", uid="order-42")
    engine.run()

    assert len(engine.enrollments(loyalty)) == 1
    assert len(engine.sent()) == 1


def test_once_means_a_contact_never_enters_twice(engine: Engine, loyalty) -> None:  # type: ignore[no-untyped-def]
    buyer = engine.contact(attributes={"orders_count": 1})
    engine.event(buyer, "purchase")
    engine.run()
    engine.event(buyer, "purchase")
    engine.run()

    assert len(engine.enrollments(loyalty)) == 1


def test_marketing_email_without_consent_is_skipped_and_not_queued(engine: Engine, loyalty) -> None:  # type: ignore[no-untyped-def]
    shy = engine.contact(attributes={"orders_count": 1}, email_consent=False)
    engine.event(shy, "purchase")
    engine.run()

    assert engine.sent() == []
    assert engine.journey(shy, loyalty)[-1] == ("coupon", "skipped")


def test_transactional_email_needs_no_consent(engine: Engine) -> None:
    engine.message("receipt", marketing=False)
    scenario = engine.scenario(
        graph(
            [
                {"id": "t", "type": "trigger", "kind": "event", "config": {"event": "purchase"}},
                {
                    "id": "mail",
                    "type": "action",
                    "kind": "send_email",
                    "config": {"message": "receipt"},
                },
            ],
            [("t", "mail")],
        )
    )
    shy = engine.contact(email_consent=False)
    engine.event(shy, "purchase")
    engine.run()

    assert engine.sent() == [(shy.id, "email", "receipt")]
    assert engine.journey(shy, scenario)[-1] == ("mail", "completed")


WAIT_TWO_DAYS = graph(
    [
        {"id": "joined", "type": "trigger", "kind": "list_added", "config": {"list": "newsletter"}},
        {"id": "pause", "type": "delay", "kind": "wait", "config": {"seconds": 2 * 86400}},
        {"id": "points", "type": "action", "kind": "add_score", "config": {"points": 5}},
    ],
    [("joined", "pause"), ("pause", "points")],
)


def test_a_wait_parks_the_contact_until_its_time(engine: Engine) -> None:
    engine.list("newsletter")
    scenario = engine.scenario(WAIT_TWO_DAYS)
    reader = engine.contact()
    engine.event(reader, "list_added", list="newsletter")

    engine.run()
    (parked,) = engine.enrollments(scenario)
    assert (parked.state, parked.node_id) == (EnrollmentState.waiting, "pause")

    engine.later(days=1)
    engine.session.refresh(reader)
    assert reader.score == 0

    engine.later(days=1)
    engine.session.refresh(reader)
    assert reader.score == 5
    assert engine.enrollments(scenario)[0].state == EnrollmentState.completed


def test_a_paused_scenario_takes_no_step_until_resumed(engine: Engine) -> None:
    from app.services.scenarios import scenarios

    engine.list("newsletter")
    scenario = engine.scenario(WAIT_TWO_DAYS)
    reader = engine.contact()
    engine.event(reader, "list_added", list="newsletter")
    engine.run()
    scenarios.pause(engine.session, scenario.id, now=engine.clock.now())  # type: ignore[arg-type]

    engine.later(days=3)
    engine.session.refresh(reader)
    assert reader.score == 0

    scenarios.activate(engine.session, scenario.id, now=engine.clock.now())  # type: ignore[arg-type]
    engine.run()
    engine.session.refresh(reader)
    assert reader.score == 5


def test_contacts_stay_on_the_version_they_entered(engine: Engine) -> None:
    from app.services.scenarios import scenarios

    engine.list("newsletter")
    scenario = engine.scenario(WAIT_TWO_DAYS)
    early = engine.contact()
    engine.event(early, "list_added", list="newsletter")
    engine.run()

    v2 = graph(
        [
            {
                "id": "joined",
                "type": "trigger",
                "kind": "list_added",
                "config": {"list": "newsletter"},
            },
            {"id": "pause", "type": "delay", "kind": "wait", "config": {"seconds": 2 * 86400}},
            {"id": "points", "type": "action", "kind": "add_score", "config": {"points": 50}},
        ],
        [("joined", "pause"), ("pause", "points")],
    )
    scenarios.save_draft(engine.session, scenario.id, v2, revision=1, now=engine.clock.now())  # type: ignore[arg-type]
    scenarios.activate(engine.session, scenario.id, now=engine.clock.now())  # type: ignore[arg-type]
    late = engine.contact()
    engine.event(late, "list_added", list="newsletter")
    engine.run()
    engine.later(days=2)

    engine.session.refresh(early)
    engine.session.refresh(late)
    assert (early.score, late.score) == (5, 50)


def test_score_points_from_one_scenario_fire_a_score_trigger_in_another(engine: Engine) -> None:
    engine.list("hot-leads")
    engine.scenario(
        graph(
            [
                {
                    "id": "visit",
                    "type": "trigger",
                    "kind": "event",
                    "config": {"event": "page_visit"},
                },
                {"id": "plus", "type": "action", "kind": "add_score", "config": {"points": 20}},
            ],
            [("visit", "plus")],
            reentry="always",
        ),
        name="Engagement points",
    )
    engine.scenario(
        graph(
            [
                {
                    "id": "hot",
                    "type": "trigger",
                    "kind": "score_reached",
                    "config": {"threshold": 50},
                },
                {
                    "id": "tag",
                    "type": "action",
                    "kind": "add_to_list",
                    "config": {"list": "hot-leads"},
                },
            ],
            [("hot", "tag")],
        ),
        name="Hot leads",
    )
    lead = engine.contact()
    for _ in range(3):
        engine.event(lead, "page_visit")
        engine.run()

    engine.session.refresh(lead)
    assert lead.score == 60
    assert engine.members("hot-leads") == {lead.id}


def test_list_changes_of_one_journey_apply_in_its_order(engine: Engine) -> None:
    engine.list("vip")
    engine.scenario(
        graph(
            [
                {"id": "t", "type": "trigger", "kind": "event", "config": {"event": "upgrade"}},
                {
                    "id": "out",
                    "type": "action",
                    "kind": "remove_from_list",
                    "config": {"list": "vip"},
                },
                {"id": "in", "type": "action", "kind": "add_to_list", "config": {"list": "vip"}},
            ],
            [("t", "out"), ("out", "in")],
        )
    )
    customer = engine.contact()
    engine.event(customer, "upgrade")
    engine.run()

    assert engine.members("vip") == {customer.id}
    assert engine.system_events("list_added") == 1


def test_update_attribute_sets_and_increments_and_records_the_changes(engine: Engine) -> None:
    engine.scenario(
        graph(
            [
                {"id": "t", "type": "trigger", "kind": "event", "config": {"event": "visit"}},
                {
                    "id": "count",
                    "type": "action",
                    "kind": "update_attribute",
                    "config": {"attribute": "visits", "increment": 1},
                },
                {
                    "id": "plan",
                    "type": "action",
                    "kind": "update_attribute",
                    "config": {"attribute": "plan", "value": "gold"},
                },
                {
                    "id": "name",
                    "type": "action",
                    "kind": "update_attribute",
                    "config": {"attribute": "first_name", "value": "Léa"},
                },
            ],
            [("t", "count"), ("count", "plan"), ("plan", "name")],
            reentry="always",
        )
    )
    regular = engine.contact(attributes={"visits": 4, "plan": "gold"}, first_name="Léa")
    newcomer = engine.contact(attributes={})
    for contact in (regular, newcomer):
        engine.event(contact, "visit")
    engine.run()

    engine.session.refresh(regular)
    engine.session.refresh(newcomer)
    assert regular.attributes == {"visits": 5, "plan": "gold"}
    assert (newcomer.attributes, newcomer.first_name) == ({"visits": 1, "plan": "gold"}, "Léa")
    # visits twice, plan and first_name once: unchanged values record nothing
    assert engine.system_events("attribute_changed") == 4


def test_a_text_too_long_for_a_built_in_field_fails_the_step_not_the_chunk(engine: Engine) -> None:
    scenario = engine.scenario(
        graph(
            [
                {"id": "t", "type": "trigger", "kind": "event", "config": {"event": "visit"}},
                {
                    "id": "phone",
                    "type": "action",
                    "kind": "update_attribute",
                    "config": {"attribute": "phone", "value": "+33" + "1" * 40},
                },
            ],
            [("t", "phone")],
        )
    )
    contact = engine.contact()
    engine.event(contact, "visit")
    engine.run()

    (enrollment,) = engine.enrollments(scenario)
    assert enrollment.attempts == 1
    assert "at most 32 characters" in (enrollment.last_error or "")


@pytest.mark.parametrize("zone", ["localtime", "Factory", "Mars/Olympus_Mons"])
def test_a_scenario_setting_a_time_zone_that_is_not_one_fails_the_step(
    engine: Engine, zone: str
) -> None:
    scenario = engine.scenario(
        graph(
            [
                {"id": "t", "type": "trigger", "kind": "event", "config": {"event": "visit"}},
                {
                    "id": "zone",
                    "type": "action",
                    "kind": "update_attribute",
                    "config": {"attribute": "timezone", "value": zone},
                },
            ],
            [("t", "zone")],
        )
    )
    contact = engine.contact(timezone="Europe/Paris")
    engine.event(contact, "visit")
    engine.run()

    (enrollment,) = engine.enrollments(scenario)
    assert "must be a time zone like Europe/Paris" in (enrollment.last_error or "")
    engine.session.refresh(contact)
    assert contact.timezone == "Europe/Paris"


def test_a_scenario_may_move_a_contact_to_a_real_time_zone(engine: Engine) -> None:
    engine.scenario(
        graph(
            [
                {"id": "t", "type": "trigger", "kind": "event", "config": {"event": "visit"}},
                {
                    "id": "zone",
                    "type": "action",
                    "kind": "update_attribute",
                    "config": {"attribute": "timezone", "value": "America/New_York"},
                },
            ],
            [("t", "zone")],
        )
    )
    contact = engine.contact(timezone="Europe/Paris")
    engine.event(contact, "visit")
    engine.run()

    engine.session.refresh(contact)
    assert contact.timezone == "America/New_York"


def test_new_journeys_take_their_first_steps_in_the_transaction_that_matched_them(
    engine: Engine, loyalty
) -> None:  # type: ignore[no-untyped-def]
    from worker.engine.triggers import match_events

    newcomer = engine.contact(attributes={"orders_count": 1})
    engine.event(newcomer, "purchase")

    report = match_events(engine.session, engine.plans, engine.clock.now())

    assert report is not None
    assert (report.entered, report.steps, report.outbox) == (1, 3, 1)
    engine.session.expire_all()
    [enrollment] = engine.enrollments(loyalty)
    assert (enrollment.state, enrollment.node_id, enrollment.seq) == (
        EnrollmentState.completed,
        "coupon",
        3,
    )
    assert engine.journey(newcomer, loyalty) == [
        ("bought", "completed"),
        ("first", "yes"),
        ("coupon", "completed"),
    ]


def test_changes_no_scenario_listens_to_are_recorded_already_matched(engine: Engine) -> None:
    from sqlalchemy import select

    from app.models import Event
    from worker.engine.triggers import match_events

    engine.list("vip")
    engine.scenario(
        graph(
            [
                {"id": "in", "type": "trigger", "kind": "event", "config": {"event": "signup"}},
                {"id": "vip", "type": "action", "kind": "add_to_list", "config": {"list": "vip"}},
                {"id": "pts", "type": "action", "kind": "add_score", "config": {"points": 5}},
            ],
            [("in", "vip"), ("vip", "pts")],
        )
    )
    welcome = engine.scenario(
        graph(
            [
                {"id": "in", "type": "trigger", "kind": "list_added", "config": {"list": "vip"}},
                {"id": "end", "type": "action", "kind": "exit", "config": {}},
            ],
            [("in", "end")],
        ),
        name="VIP welcome",
    )
    contact = engine.contact()
    engine.event(contact, "signup")
    match_events(engine.session, engine.plans, engine.clock.now())  # the signup's journey

    pending = dict(
        engine.session.execute(
            select(Event.name, Event.processed_at.is_(None)).where(Event.name != "signup")  # type: ignore[union-attr]
        ).all()
    )
    # The list change is heard (another scenario starts on it); nothing listens to the score.
    assert pending == {"list_added": True, "score_changed": False}
    engine.run()
    assert [e.contact_id for e in engine.enrollments(welcome)] == [contact.id]


def test_a_condition_sees_the_changes_made_earlier_in_the_same_journey(engine: Engine) -> None:
    engine.list("warm")
    engine.list("welcomed")
    scenario = engine.scenario(
        graph(
            [
                {"id": "in", "type": "trigger", "kind": "event", "config": {"event": "signup"}},
                {"id": "pts", "type": "action", "kind": "add_score", "config": {"points": 10}},
                {"id": "tag", "type": "action", "kind": "add_to_list", "config": {"list": "welcomed"}},
                {"id": "plan", "type": "action", "kind": "update_attribute",
                 "config": {"attribute": "plan", "value": "pro"}},
                {"id": "check", "type": "condition", "kind": "if", "config": {"if": {"all": [
                    {"attribute": "score", "op": "gte", "value": 10},
                    {"list": "welcomed", "op": "member"},
                    {"attribute": "plan", "op": "eq", "value": "pro"},
                ]}}},
                {"id": "warm", "type": "action", "kind": "add_to_list", "config": {"list": "warm"}},
            ],
            [("in", "pts"), ("pts", "tag"), ("tag", "plan"), ("plan", "check"),
             ("check", "yes", "warm")],
        )
    )  # fmt: skip
    contact = engine.contact(score=0)
    engine.event(contact, "signup")
    engine.run()

    assert ("check", "yes") in engine.journey(contact, scenario)
    assert engine.members("warm") == {contact.id}
