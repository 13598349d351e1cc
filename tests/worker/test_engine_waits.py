"""Waiting for an event, waiting until a time of day, re-entry per instance, and goals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session

from app.models import EnrollmentState
from tests.worker.engine_harness import Engine
from tests.worker.test_engine_journeys import graph
from worker.engine.steps.delays import next_time_of_day


def cart_graph(**settings: object) -> dict:  # type: ignore[type-arg]
    return graph(
        [
            {"id": "cart", "type": "trigger", "kind": "event", "config": {"event": "cart_updated", "key": "cart_id"}},
            {"id": "hour", "type": "delay", "kind": "wait_for_event",
             "config": {"event": "purchase", "timeout_seconds": 3600, "match_key": "cart_id"}},
            {"id": "reminder", "type": "action", "kind": "send_email", "config": {"message": "cart-reminder"}},
            {"id": "done", "type": "action", "kind": "exit", "config": {}},
        ],
        [("cart", "hour"), ("hour", "no", "reminder"), ("hour", "yes", "done")],
        **settings,
    )  # fmt: skip


@pytest.fixture
def engine(session: Session) -> Engine:
    engine = Engine(session)
    engine.message("cart-reminder")
    return engine


def test_abandoned_cart_reminds_only_those_who_did_not_buy_that_cart(engine: Engine) -> None:
    scenario = engine.scenario(cart_graph(reentry="always"))
    buyer, leaver, other_cart = engine.contact(), engine.contact(), engine.contact()
    for contact, cart in ((buyer, "A"), (leaver, "B"), (other_cart, "C")):
        engine.event(contact, "cart_updated", cart_id=cart)
    engine.run()

    engine.clock.advance(minutes=20)
    engine.event(buyer, "purchase", cart_id="A")
    engine.event(other_cart, "purchase", cart_id="Z")  # bought something else
    engine.run()
    assert engine.journey(buyer, scenario)[-2:] == [("hour", "yes"), ("done", "completed")]
    assert engine.sent() == []

    engine.later(minutes=40)

    assert sorted(c for c, _, _ in engine.sent()) == sorted([leaver.id, other_cart.id])
    assert engine.journey(leaver, scenario)[-2:] == [("hour", "no"), ("reminder", "completed")]


def test_one_journey_per_cart_even_when_the_cart_changes_again(engine: Engine) -> None:
    scenario = engine.scenario(cart_graph(reentry="always"))
    shopper = engine.contact()
    engine.event(shopper, "cart_updated", cart_id="A")
    engine.event(shopper, "cart_updated", cart_id="A")
    engine.event(shopper, "cart_updated", cart_id="B")
    engine.run()

    assert sorted(e.instance_key for e in engine.enrollments(scenario)) == ["A", "B"]


def test_after_exit_lets_a_contact_in_again_once_the_journey_ended(engine: Engine) -> None:
    scenario = engine.scenario(cart_graph(reentry="after_exit"))
    shopper = engine.contact()
    engine.event(shopper, "cart_updated", cart_id="A")
    engine.run()
    engine.event(shopper, "cart_updated", cart_id="A")
    engine.run()
    assert len(engine.enrollments(scenario)) == 1

    engine.later(hours=1)
    engine.event(shopper, "cart_updated", cart_id="A")
    engine.run()
    assert len(engine.enrollments(scenario)) == 2


def test_an_event_goal_pulls_waiting_contacts_out_at_once(engine: Engine) -> None:
    scenario = engine.scenario(cart_graph(reentry="always", exit_when={"event": "purchase"}))
    shopper = engine.contact()
    engine.event(shopper, "cart_updated", cart_id="A")
    engine.run()

    engine.clock.advance(minutes=5)
    engine.event(shopper, "purchase", cart_id="Z")
    engine.run()

    (enrollment,) = engine.enrollments(scenario)
    assert enrollment.state == EnrollmentState.exited
    assert engine.journey(shopper, scenario)[-1] == ("hour", "exited")
    engine.later(hours=2)
    assert engine.sent() == []


def test_a_condition_goal_pulls_contacts_out_before_their_next_step(engine: Engine) -> None:
    scenario = engine.scenario(
        cart_graph(exit_when={"attribute": "vip", "op": "eq", "value": True})
    )
    shopper = engine.contact()
    engine.event(shopper, "cart_updated", cart_id="A")
    engine.run()
    shopper.attributes = {"vip": True}
    engine.session.add(shopper)
    engine.session.flush()

    engine.later(hours=1)

    assert engine.enrollments(scenario)[0].state == EnrollmentState.exited
    assert engine.sent() == []


def test_wait_until_uses_the_contacts_time_zone(engine: Engine) -> None:
    scenario = engine.scenario(
        graph(
            [
                {"id": "t", "type": "trigger", "kind": "event", "config": {"event": "signup"}},
                {"id": "nine", "type": "delay", "kind": "wait_until", "config": {"at": "09:00"}},
                {
                    "id": "mail",
                    "type": "action",
                    "kind": "send_email",
                    "config": {"message": "cart-reminder"},
                },
            ],
            [("t", "nine"), ("nine", "mail")],
        )
    )
    engine.clock.current = datetime(2026, 1, 5, 6, 0, tzinfo=UTC)  # 07:00 in Paris, 01:00 in NYC
    paris = engine.contact(timezone="Europe/Paris")
    new_york = engine.contact(timezone="America/New_York")
    engine.event(paris, "signup")
    engine.event(new_york, "signup")
    engine.run()

    wakes = {e.contact_id: e.wake_at for e in engine.enrollments(scenario)}
    assert wakes[paris.id] == datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
    assert wakes[new_york.id] == datetime(2026, 1, 5, 14, 0, tzinfo=UTC)

    engine.later(hours=2)
    assert [c for c, _, _ in engine.sent()] == [paris.id]


def test_next_time_of_day_respects_weekdays_and_daylight_saving() -> None:
    paris = ZoneInfo("Europe/Paris")
    friday_evening = datetime(2026, 3, 27, 19, 0, tzinfo=UTC)
    monday = next_time_of_day(friday_evening, "09:00", ["mon"], paris)
    assert monday == datetime(2026, 3, 30, 7, 0, tzinfo=UTC)  # summer time began on the 29th
    assert next_time_of_day(monday, "09:00", None, paris) == monday


def test_a_goal_event_after_the_entry_in_the_same_batch_takes_the_contact_out(
    engine: Engine,
) -> None:
    scenario = engine.scenario(cart_graph(reentry="always", exit_when={"event": "purchase"}))
    quick, slow = engine.contact(), engine.contact()
    engine.event(quick, "cart_updated", cart_id="A")
    engine.event(quick, "purchase", cart_id="A")
    engine.event(slow, "purchase", cart_id="Z")  # bought before the cart: stays in
    engine.event(slow, "cart_updated", cart_id="B")
    engine.run()

    states = {e.contact_id: e.state for e in engine.enrollments(scenario)}
    assert states == {quick.id: EnrollmentState.exited, slow.id: EnrollmentState.waiting}


def test_event_goals_follow_the_version_each_contact_is_on_even_while_paused(
    engine: Engine,
) -> None:
    from app.services.scenarios import scenarios

    scenario = engine.scenario(cart_graph(reentry="always", exit_when={"event": "purchase"}))
    early = engine.contact()
    engine.event(early, "cart_updated", cart_id="A")
    engine.run()
    scenarios.save_draft(
        engine.session,
        scenario.id,
        cart_graph(reentry="always"),
        revision=1,
        now=engine.clock.now(),
    )  # type: ignore[arg-type]
    scenarios.activate(engine.session, scenario.id, now=engine.clock.now())  # type: ignore[arg-type]
    late = engine.contact()
    engine.event(late, "cart_updated", cart_id="B")
    engine.run()
    scenarios.pause(engine.session, scenario.id, now=engine.clock.now())  # type: ignore[arg-type]

    engine.clock.advance(minutes=5)
    for contact in (early, late):
        engine.event(contact, "purchase", cart_id="Z")
    engine.run()

    states = {e.contact_id: e.state for e in engine.enrollments(scenario)}
    assert states == {early.id: EnrollmentState.exited, late.id: EnrollmentState.waiting}


def test_an_awaited_event_matched_while_the_contact_was_being_parked_still_counts(
    engine: Engine,
) -> None:
    from sqlalchemy import update

    from app.models import Event

    scenario = engine.scenario(cart_graph(reentry="always"))
    shopper = engine.contact()
    engine.event(shopper, "cart_updated", cart_id="A")
    engine.run()
    engine.clock.advance(minutes=10)
    engine.event(shopper, "purchase", cart_id="A")
    # The matcher saw the purchase before the wait was committed: it resumed nobody.
    engine.session.execute(
        update(Event).where(Event.name == "purchase").values(processed_at=engine.clock.now())
    )

    engine.later(hours=1)

    assert engine.journey(shopper, scenario)[-2:] == [("hour", "yes"), ("done", "completed")]
    assert engine.sent() == []


def test_an_awaited_event_later_in_the_batch_that_parked_the_contact_counts(
    engine: Engine,
) -> None:
    scenario = engine.scenario(cart_graph(reentry="always"))
    buyer, other = engine.contact(), engine.contact()
    engine.event(buyer, "cart_updated", cart_id="A")
    engine.event(buyer, "purchase", cart_id="A")  # same batch, after the entry
    engine.event(other, "purchase", cart_id="B")  # before its entry: does not count
    engine.clock.advance(seconds=30)
    engine.event(other, "cart_updated", cart_id="B")
    engine.run()

    assert engine.journey(buyer, scenario)[-2:] == [("hour", "yes"), ("done", "completed")]
    assert engine.journey(other, scenario) == [("cart", "completed"), ("hour", "waiting")]
    engine.later(hours=1)
    assert [c for c, _, _ in engine.sent()] == [other.id]


def test_a_goal_event_another_worker_matched_first_still_takes_the_newcomer_out(
    engine: Engine,
) -> None:
    from sqlalchemy import update

    from app.models import Event

    scenario = engine.scenario(cart_graph(reentry="always", exit_when={"event": "purchase"}))
    shopper = engine.contact()
    engine.event(shopper, "cart_updated", cart_id="A")
    engine.event(shopper, "purchase", cart_id="A")
    # Another worker matched the purchase while this one had not yet let the shopper in.
    engine.session.execute(
        update(Event).where(Event.name == "purchase").values(processed_at=engine.clock.now())
    )

    engine.run()

    [journey] = engine.enrollments(scenario)
    assert journey.state == EnrollmentState.exited
    assert engine.journey(shopper, scenario) == [("cart", "exited")]


def test_purchases_matched_long_after_their_cart_still_spare_the_buyers_a_reminder(
    engine: Engine,
) -> None:
    # The shop posts every cart, then every purchase, faster than the matcher runs: carts are
    # matched (and parked on the wait) batches before the purchases that followed them.
    scenario = engine.scenario(cart_graph(reentry="always"))
    start = engine.clock.now()
    engine.clock.advance(seconds=30)  # they reach us, and the matcher, after they happened
    contacts = [engine.contact() for _ in range(1000)]
    buyers = {c.id for c in contacts[::2]}
    for i, contact in enumerate(contacts):
        engine.event(
            contact, "cart_updated", occurred_at=start + timedelta(milliseconds=i), cart_id=f"c{i}"
        )
    for i, contact in enumerate(contacts):
        if contact.id in buyers:
            bought = start + timedelta(milliseconds=i + 200)
            engine.event(contact, "purchase", occurred_at=bought, cart_id=f"c{i}")
    engine.run(batch=50)

    engine.later(hours=2)

    reminded = {contact_id for contact_id, _, _ in engine.sent()}
    assert reminded == {c.id for c in contacts} - buyers
    assert len(engine.enrollments(scenario)) == 1000


def test_a_purchase_that_comes_after_the_wait_ended_does_not_count(engine: Engine) -> None:
    engine.scenario(cart_graph(reentry="always"))
    late, start = engine.contact(), engine.clock.now()
    engine.event(late, "cart_updated", cart_id="A")
    engine.run()
    engine.clock.advance(hours=2)  # the purchase reaches us, and the matcher, only now
    engine.event(late, "purchase", occurred_at=start + timedelta(hours=1, minutes=5), cart_id="A")

    engine.run()

    assert [contact_id for contact_id, _, _ in engine.sent()] == [late.id]


def test_a_goal_event_matched_late_ends_only_journeys_it_came_after(engine: Engine) -> None:
    scenario = engine.scenario(cart_graph(reentry="always", exit_when={"event": "purchase"}))
    earlier, later = engine.contact(), engine.contact()
    start = engine.clock.now()
    engine.clock.advance(seconds=30)  # all posted (and matched) after they happened
    engine.event(earlier, "cart_updated", occurred_at=start + timedelta(seconds=5), cart_id="A")
    engine.event(later, "cart_updated", occurred_at=start + timedelta(seconds=5), cart_id="B")
    engine.event(earlier, "purchase", occurred_at=start + timedelta(seconds=1), cart_id="Z")
    engine.event(later, "purchase", occurred_at=start + timedelta(seconds=9), cart_id="B")

    engine.run(batch=1)

    states = {e.contact_id: e.state for e in engine.enrollments(scenario)}
    assert states == {earlier.id: EnrollmentState.waiting, later.id: EnrollmentState.exited}


def test_a_browser_clock_running_ahead_cannot_move_a_cart_past_its_purchase(
    engine: Engine,
) -> None:
    engine.scenario(cart_graph(reentry="always"))
    buyer, now = engine.contact(), engine.clock.now()
    # The snippet stamps the cart with a clock ten minutes fast; the shop posts the purchase.
    engine.event(buyer, "cart_updated", occurred_at=now + timedelta(minutes=10), cart_id="A")
    engine.clock.advance(seconds=30)
    engine.event(buyer, "purchase", cart_id="A")
    engine.run()

    engine.later(hours=2)

    assert engine.sent() == []


def test_a_later_wait_for_the_same_event_counts_only_what_came_once_it_began(
    engine: Engine,
) -> None:
    engine.message("nudge")
    engine.scenario(
        graph(
            [
                {"id": "signup", "type": "trigger", "kind": "event", "config": {"event": "signup"}},
                {"id": "first", "type": "delay", "kind": "wait_for_event",
                 "config": {"event": "click", "timeout_seconds": 3600}},
                {"id": "day", "type": "delay", "kind": "wait", "config": {"seconds": 86400}},
                {"id": "again", "type": "delay", "kind": "wait_for_event",
                 "config": {"event": "click", "timeout_seconds": 3600}},
                {"id": "nudge", "type": "action", "kind": "send_email", "config": {"message": "nudge"}},
            ],
            [("signup", "first"), ("first", "yes", "day"), ("day", "again"), ("again", "no", "nudge")],
        )
    )  # fmt: skip
    clicker = engine.contact()
    engine.event(clicker, "signup")
    engine.run()
    engine.clock.advance(minutes=5)
    engine.event(clicker, "click")
    engine.run()  # the first wait: yes

    engine.later(days=1, seconds=1)  # the second wait begins; that click came before it
    engine.later(hours=2)

    assert [message for _, _, message in engine.sent()] == ["nudge"]
