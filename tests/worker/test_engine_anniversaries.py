"""Birthdays: a week before, at 9:00 in the contact's time zone, once a year."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlmodel import Session

from tests.worker.engine_harness import Engine
from tests.worker.test_engine_journeys import graph
from worker.engine.anniversaries import schedule_anniversaries


@pytest.fixture
def engine(session: Session) -> Engine:
    engine = Engine(session)
    engine.message("birthday-coupon")
    engine.scenario(
        graph(
            [
                {"id": "week_before", "type": "trigger", "kind": "date_anniversary",
                 "config": {"attribute": "birthday", "offset_days": -7, "at": "09:00"}},
                {"id": "coupon", "type": "action", "kind": "send_email", "config": {"message": "birthday-coupon"}},
            ],
            [("week_before", "coupon")],
            reentry="always",
        )
    )  # fmt: skip
    return engine


def tick(engine: Engine) -> int:
    entered = schedule_anniversaries(engine.session, engine.plans, engine.clock.now())
    engine.run()
    return entered


def test_a_week_before_the_birthday_at_nine_local_time_once_a_year(engine: Engine) -> None:
    lea = engine.contact(birthday=date(1990, 3, 20), timezone="Europe/Paris")
    engine.contact(birthday=date(1990, 3, 21), timezone="Europe/Paris")  # not yet

    engine.clock.current = datetime(2026, 3, 13, 7, 59, tzinfo=UTC)  # 08:59 in Paris
    assert tick(engine) == 0
    engine.clock.current = datetime(2026, 3, 13, 8, 0, tzinfo=UTC)  # 09:00 in Paris
    assert tick(engine) == 1
    engine.clock.current = datetime(2026, 3, 13, 15, 0, tzinfo=UTC)
    assert tick(engine) == 0  # still the same occurrence

    assert engine.sent() == [(lea.id, "email", "birthday-coupon")]
    engine.clock.current = datetime(2027, 3, 13, 8, 0, tzinfo=UTC)
    assert tick(engine) == 1


def test_time_zones_decide_which_day_it_is(engine: Engine) -> None:
    tokyo = engine.contact(birthday=date(1985, 3, 21), timezone="Asia/Tokyo")
    engine.contact(birthday=date(1985, 3, 21), timezone="America/Los_Angeles")

    engine.clock.current = datetime(2026, 3, 14, 0, 30, tzinfo=UTC)  # 09:30 on the 14th in Tokyo
    tick(engine)

    assert [c for c, _, _ in engine.sent()] == [tokyo.id]


def test_leap_day_birthdays_are_celebrated_on_the_28th(engine: Engine) -> None:
    leap = engine.contact(birthday=date(2000, 2, 29), timezone="UTC")

    engine.clock.current = datetime(2027, 2, 21, 9, 0, tzinfo=UTC)  # a week before the 28th
    tick(engine)

    assert [c for c, _, _ in engine.sent()] == [leap.id]


def test_a_custom_date_attribute_works_too(engine: Engine) -> None:
    engine.scenario(
        graph(
            [
                {"id": "renewal", "type": "trigger", "kind": "date_anniversary",
                 "config": {"attribute": "signed_on", "offset_days": 0, "at": "10:00"}},
                {"id": "mail", "type": "action", "kind": "send_email", "config": {"message": "birthday-coupon"}},
            ],
            [("renewal", "mail")],
        ),
        name="Anniversary of the contract",
    )  # fmt: skip
    client = engine.contact(attributes={"signed_on": "2021-06-02"}, timezone="UTC")

    engine.clock.current = datetime(2026, 6, 2, 10, 0, tzinfo=UTC)
    tick(engine)

    assert [c for c, _, _ in engine.sent()] == [client.id]
