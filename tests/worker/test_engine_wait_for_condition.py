"""Waiting for a condition: YES as soon as it holds — on arrival, or when the contact's data
changes —, NO exactly at the time limit; a change wakes only the waits of that contact, and
nothing is polled (CONTRACTS-2 §D)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlmodel import Session

from app.i18n import speaking
from app.i18n.phrases import spoken
from app.models import Enrollment, EnrollmentState, StepLog
from app.services.contacts import lists as list_service
from app.services.contacts.contacts import upsert_contact
from app.services.contacts.fields import contact_data
from app.services.insights.contacts import reason
from app.services.scenarios import scenarios
from app.services.scenarios.migration import Action, Choice, Migration, Timers
from tests.worker.engine_harness import Engine
from tests.worker.test_engine_journeys import graph
from worker.engine.triggers import match_events

FOURTEEN_DAYS = 14 * 86_400


def trial_graph(condition: dict) -> dict:  # type: ignore[type-arg]
    return graph(
        [
            {"id": "trial", "type": "trigger", "kind": "event", "config": {"event": "trial_started"}},
            {"id": "paid", "type": "delay", "kind": "wait_for_condition",
             "config": {"if": condition, "timeout_seconds": FOURTEEN_DAYS}},
            {"id": "thanks", "type": "action", "kind": "add_score", "config": {"points": 10}},
            {"id": "nudge", "type": "action", "kind": "add_score", "config": {"points": 1}},
        ],
        [("trial", "paid"), ("paid", "yes", "thanks"), ("paid", "no", "nudge")],
    )  # fmt: skip


PAID = {"attribute": "plan", "op": "eq", "value": "paid"}


@pytest.fixture
def engine(session: Session) -> Engine:
    return Engine(session)


def upgrade_plan(engine: Engine, email: str, plan: str) -> None:
    """As the contacts API does: the change and its attribute_changed event, one transaction."""
    now = engine.clock.now()
    data = contact_data(email=email, attributes={"plan": plan}, now=now, source="api")
    upsert_contact(engine.session, data, now=now, source="api")
    engine.session.flush()


def wait_row(engine: Engine, contact_id: int | None) -> Enrollment:
    (enrollment,) = engine.session.execute(
        select(Enrollment).where(Enrollment.contact_id == contact_id)
    ).scalars()
    return enrollment


def match_only(engine: Engine) -> None:
    """The matcher alone (every share of it on PostgreSQL), so what it made due can be seen."""
    while match_events(engine.session, engine.plans, engine.clock.now()) is not None:
        pass
    engine.session.expire_all()


def last_detail(engine: Engine, contact_id: int | None) -> dict:  # type: ignore[type-arg]
    details = engine.session.execute(
        select(StepLog.detail)
        .where(StepLog.contact_id == contact_id, StepLog.node_id == "paid")
        .order_by(StepLog.id)
    ).scalars()
    return list(details)[-1]


def test_a_condition_already_true_on_arrival_goes_down_yes_at_once(engine: Engine) -> None:
    scenario = engine.scenario(trial_graph(PAID))
    payer = engine.contact(attributes={"plan": "paid"})
    engine.event(payer, "trial_started")
    engine.run()

    assert engine.journey(payer, scenario) == [
        ("trial", "completed"), ("paid", "yes"), ("thanks", "completed"),
    ]  # fmt: skip
    assert last_detail(engine, payer.id)["text"] == "true on arrival → yes"


def test_a_trial_that_becomes_paid_leaves_by_yes_at_that_moment(engine: Engine) -> None:
    scenario = engine.scenario(trial_graph(PAID))
    trialist = engine.contact(email="t@example.com", attributes={"plan": "trial"})
    engine.event(trialist, "trial_started")
    engine.run()
    assert engine.journey(trialist, scenario)[-1] == ("paid", "waiting")
    deadline = engine.clock.now() + timedelta(seconds=FOURTEEN_DAYS)

    engine.clock.advance(days=3)
    upgrade_plan(engine, "t@example.com", "paid")
    engine.run()

    assert engine.journey(trialist, scenario)[-2:] == [("paid", "yes"), ("thanks", "completed")]
    detail = last_detail(engine, trialist.id)
    assert detail["text"].startswith("became true on ")
    assert detail["children"][0]["text"] == "plan was 'paid', needs = 'paid' → yes"
    with speaking("fr"):
        why = reason(detail)
        assert why is not None
        assert why.text.startswith("devenue vraie le ")
        assert why.result is True
    # The wait's own row, on arrival, says what it waits for, in French too.
    (parked,) = engine.session.execute(
        select(StepLog.detail).where(StepLog.outcome == "waiting")
    ).scalars()
    assert parked["text"] == "waits until plan = 'paid', at most 2 weeks"
    with speaking("fr"):
        assert spoken(parked) == "attend que plan = 'paid', au plus 2 semaines"
    assert deadline > engine.clock.now()


def test_joining_a_list_ends_the_wait_by_yes(engine: Engine) -> None:
    customers = engine.list("customers")
    scenario = engine.scenario(trial_graph({"list": "customers", "op": "member"}))
    trialist = engine.contact()
    engine.event(trialist, "trial_started")
    engine.run()

    engine.clock.advance(hours=5)
    now = engine.clock.now()
    list_service.add_members(engine.session, [customers], [trialist.id], now=now, source="api")  # type: ignore[list-item]
    engine.run()

    assert engine.journey(trialist, scenario)[-2:] == [("paid", "yes"), ("thanks", "completed")]


def test_never_true_takes_no_exactly_at_the_time_limit(engine: Engine) -> None:
    scenario = engine.scenario(trial_graph(PAID))
    trialist = engine.contact(email="n@example.com", attributes={"plan": "trial"})
    engine.event(trialist, "trial_started")
    engine.run()
    engine.clock.advance(days=2)
    upgrade_plan(engine, "n@example.com", "basic")  # a change, still not paid
    engine.run()
    assert engine.journey(trialist, scenario)[-1] == ("paid", "waiting")

    engine.later(days=12, seconds=-1)
    assert engine.journey(trialist, scenario)[-1] == ("paid", "waiting")
    assert wait_row(engine, trialist.id).state == EnrollmentState.waiting
    engine.later(seconds=1)

    assert engine.journey(trialist, scenario)[-2:] == [("paid", "no"), ("nudge", "completed")]
    detail = last_detail(engine, trialist.id)
    assert detail["text"] == "still false after 2 weeks → no"
    with speaking("fr"):
        assert spoken(detail) == "toujours fausse après 2 semaines → non"


def test_a_change_still_false_parks_the_wait_again_with_its_deadline(engine: Engine) -> None:
    engine.scenario(trial_graph(PAID))
    trialist = engine.contact(email="d@example.com", attributes={"plan": "trial"})
    engine.event(trialist, "trial_started")
    engine.run()
    deadline = wait_row(engine, trialist.id).wake_at

    engine.clock.advance(days=4)
    upgrade_plan(engine, "d@example.com", "basic")
    engine.run()

    assert wait_row(engine, trialist.id).wake_at == deadline  # not pushed back, not polled


def test_a_change_wakes_only_the_contact_it_is_about(engine: Engine) -> None:
    engine.scenario(trial_graph(PAID))
    waiting = [
        engine.contact(email=f"w{i}@example.com", attributes={"plan": "trial"}) for i in range(30)
    ]
    outsider = engine.contact(email="o@example.com", attributes={"plan": "trial"})
    for contact in waiting:
        engine.event(contact, "trial_started")
    engine.run()
    deadline = wait_row(engine, waiting[0].id).wake_at
    engine.clock.advance(days=1)
    now = engine.clock.now()

    upgrade_plan(engine, "o@example.com", "paid")  # not in the scenario: wakes nobody
    upgrade_plan(engine, "w7@example.com", "paid")
    match_only(engine)

    due = engine.session.execute(
        select(Enrollment.contact_id).where(Enrollment.wake_at <= now)  # type: ignore[operator]
    ).scalars()
    assert list(due) == [waiting[7].id]
    others = {wait_row(engine, c.id).wake_at for c in waiting if c is not waiting[7]}
    assert others == {deadline}
    assert outsider.id not in {
        e.contact_id for e in engine.session.execute(select(Enrollment)).scalars()
    }


def test_an_unrelated_change_of_the_same_contact_does_not_wake_the_wait(engine: Engine) -> None:
    engine.scenario(trial_graph(PAID))
    trialist = engine.contact(email="u@example.com", attributes={"plan": "trial"})
    engine.event(trialist, "trial_started")
    engine.run()
    deadline = wait_row(engine, trialist.id).wake_at
    engine.clock.advance(hours=1)
    now = engine.clock.now()
    data = contact_data(email="u@example.com", attributes={"city": "Lyon"}, now=now, source="api")
    upsert_contact(engine.session, data, now=now, source="api")
    engine.session.flush()

    match_only(engine)
    assert wait_row(engine, trialist.id).wake_at == deadline


def test_a_score_reached_by_another_scenario_ends_the_wait(engine: Engine) -> None:
    """The engine's own changes (another journey's points) wake the wait too."""
    scenario = engine.scenario(trial_graph({"attribute": "score", "op": "gte", "value": 5}))
    engine.scenario(
        graph(
            [
                {"id": "read", "type": "trigger", "kind": "event", "config": {"event": "guide_read"}},
                {"id": "points", "type": "action", "kind": "add_score", "config": {"points": 5}},
            ],
            [("read", "points")],
            reentry="always",
        ),
        name="Points",
    )  # fmt: skip
    trialist = engine.contact()
    engine.event(trialist, "trial_started")
    engine.run()
    engine.clock.advance(hours=2)
    engine.event(trialist, "guide_read")
    engine.run()

    assert engine.journey(trialist, scenario)[-2:] == [("paid", "yes"), ("thanks", "completed")]


def test_consent_given_through_the_api_ends_a_wait_for_consent(engine: Engine) -> None:
    """A consent change is recorded as ``consent_changed``, so the wait hears it."""
    scenario = engine.scenario(trial_graph({"consent": "sms", "op": "granted"}))
    trialist = engine.contact(email="c@example.com")
    engine.event(trialist, "trial_started")
    engine.run()
    engine.clock.advance(hours=1)
    now = engine.clock.now()
    data = contact_data(email="c@example.com", consent={"sms": True}, now=now, source="api")
    upsert_contact(engine.session, data, now=now, source="api")
    engine.session.flush()
    engine.run()

    assert engine.journey(trialist, scenario)[-2:] == [("paid", "yes"), ("thanks", "completed")]


def test_a_publish_keeping_timers_keeps_the_deadline_and_the_wake_ups(engine: Engine) -> None:
    """Moved onto the new version's wait with its timer kept, a contact keeps the deadline it
    had, and a change still wakes it there, by the new version's condition."""
    scenario = engine.scenario(trial_graph(PAID))
    trialist = engine.contact(email="m@example.com", attributes={"plan": "trial"})
    engine.event(trialist, "trial_started")
    engine.run()
    deadline = wait_row(engine, trialist.id).wake_at
    assert scenario.id is not None
    engine.clock.advance(days=1)
    gold = trial_graph({"attribute": "plan", "op": "in", "value": ["paid", "gold"]})
    fresh = engine.session.get(type(scenario), scenario.id)
    assert fresh is not None
    scenarios.save_draft(
        engine.session, scenario.id, gold, revision=fresh.draft_revision, now=engine.clock.now()
    )
    move = Migration({"paid": Choice(Action.move, "paid")}, Timers.keep)
    scenarios.publish(engine.session, scenario.id, now=engine.clock.now(), migration=move)
    engine.session.flush()
    engine.session.expire_all()
    moved = wait_row(engine, trialist.id)
    assert (moved.state, moved.wake_at) == (EnrollmentState.waiting, deadline)

    engine.clock.advance(hours=1)
    upgrade_plan(engine, "m@example.com", "gold")
    engine.run()

    assert engine.journey(trialist, scenario)[-2:] == [("paid", "yes"), ("thanks", "completed")]
