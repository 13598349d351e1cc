"""The sending rules at the moment of sending (CONTRACTS-2 §D): no marketing message at night
in the contact's time zone, never more than the caps allow across scenarios, the highest
priority first, transactional messages untouched — and every hold explained."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine

from app.clock import FrozenClock
from app.config import Settings
from app.db import session_scope
from app.i18n import speaking, spoken
from app.models import Scenario
from app.services.scenarios.stats import version_stats
from tests.worker.delivery_kit import add_contact, add_template, drain, mailbox, with_settings
from tests.worker.pacing_kit import row, rules, scenario, send

QUIET = {"start": "21:00", "end": "08:00", "weekdays": None}
# Monday 5 January 2026, 22:00 UTC: 23:00 in Paris, already Tuesday 07:00 in Tokyo.
NIGHT = datetime(2026, 1, 5, 22, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(NIGHT)


async def test_quiet_hours_hold_each_contact_until_their_own_morning(
    committed_engine: Engine, clock: FrozenClock, settings: Settings
) -> None:
    with session_scope(committed_engine) as session:
        rules(session, quiet_hours=QUIET)
        add_template(session)
        welcome = scenario(session, "Welcome")
        paris = add_contact(session, email="lea@example.com", timezone="Europe/Paris")
        tokyo = add_contact(session, email="yui@example.com", timezone="Asia/Tokyo")
        send(session, clock, welcome, paris, key="paris")
        send(session, clock, welcome, tokyo, key="tokyo")

    assert await drain(committed_engine, clock, settings) == {}

    assert row(committed_engine, "paris").next_attempt_at == datetime(2026, 1, 6, 7, 0, tzinfo=UTC)
    assert row(committed_engine, "tokyo").next_attempt_at == datetime(2026, 1, 5, 23, 0, tzinfo=UTC)
    clock.current = datetime(2026, 1, 5, 23, 0, tzinfo=UTC)  # 08:00 in Tokyo
    assert await drain(committed_engine, clock, settings) == {"sent": 1}
    assert [m.to_address for m in mailbox(committed_engine)] == ["Léa Martin <yui@example.com>"]
    clock.current = datetime(2026, 1, 6, 7, 0, tzinfo=UTC)  # 08:00 in Paris
    assert await drain(committed_engine, clock, settings) == {"sent": 1}
    paris_row = row(committed_engine, "paris")
    assert (paris_row.status, paris_row.attempts) == ("sent", 1), "a hold is not an attempt"


async def test_quiet_hours_on_some_weekdays_only_begin_on_those_days(
    committed_engine: Engine, clock: FrozenClock, settings: Settings
) -> None:
    with session_scope(committed_engine) as session:
        # Friday and Saturday nights only; Monday 23:00 in Paris is not one of them.
        rules(session, quiet_hours={**QUIET, "weekdays": [4, 5]})
        add_template(session)
        welcome = scenario(session, "Welcome")
        paris = add_contact(session, timezone="Europe/Paris")
        send(session, clock, welcome, paris, key="monday")

    assert await drain(committed_engine, clock, settings) == {"sent": 1}


async def test_a_saturday_morning_still_belongs_to_friday_nights_quiet_hours(
    committed_engine: Engine, settings: Settings
) -> None:
    saturday_morning = FrozenClock(datetime(2026, 1, 10, 6, 0, tzinfo=UTC))  # 07:00 Paris
    with session_scope(committed_engine) as session:
        rules(session, quiet_hours={**QUIET, "weekdays": [4]})
        add_template(session)
        welcome = scenario(session, "Welcome")
        paris = add_contact(session, timezone="Europe/Paris")
        send(session, saturday_morning, welcome, paris, key="saturday")

    assert await drain(committed_engine, saturday_morning, settings) == {}
    assert row(committed_engine, "saturday").next_attempt_at == datetime(
        2026, 1, 10, 7, 0, tzinfo=UTC
    )


async def test_a_scenario_that_ignores_quiet_hours_sends_at_night(
    committed_engine: Engine, clock: FrozenClock, settings: Settings
) -> None:
    with session_scope(committed_engine) as session:
        rules(session, quiet_hours=QUIET)
        add_template(session)
        alerts = scenario(session, "Price alerts", quiet_hours="ignore")
        paris = add_contact(session, timezone="Europe/Paris")
        send(session, clock, alerts, paris, key="alert")

    assert await drain(committed_engine, clock, settings) == {"sent": 1}


async def test_transactional_messages_and_scenarios_ignore_both_rules(
    committed_engine: Engine, clock: FrozenClock, settings: Settings
) -> None:
    with session_scope(committed_engine) as session:
        add_template(session)
        add_template(session, "receipt", purpose="transactional")
        shop = scenario(session, "Orders")
        password = scenario(session, "Password reset")
        rules(
            session,
            quiet_hours=QUIET,
            caps=[{"channel": "email", "max": 1, "per_days": 7}],
            priority={str(password.scenario_id): "transactional"},
        )
        paris = add_contact(session, timezone="Europe/Paris")
        send(session, clock, shop, paris, key="receipt-1", message="receipt")
        send(session, clock, shop, paris, key="receipt-2", message="receipt")
        send(session, clock, password, paris, key="reset-1")
        send(session, clock, password, paris, key="reset-2")

    assert await drain(committed_engine, clock, settings) == {"sent": 4}


async def test_a_cap_counts_the_sends_of_every_scenario_and_holds_the_next_until_the_window_frees(
    committed_engine: Engine, clock: FrozenClock, settings: Settings
) -> None:
    monday = clock.current = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    with session_scope(committed_engine) as session:
        rules(session, caps=[{"channel": "email", "max": 3, "per_days": 2}])
        add_template(session)
        welcome, cart = scenario(session, "Welcome"), scenario(session, "Cart")
        lea = add_contact(session)
        send(session, clock, welcome, lea, key="w1")
        send(session, clock, cart, lea, key="c1")
    assert await drain(committed_engine, clock, settings) == {"sent": 2}

    clock.advance(days=1)
    with session_scope(committed_engine) as session:
        send(session, clock, welcome, lea, key="w2", node="again")
        send(session, clock, cart, lea, key="c2", node="again")
    assert await drain(committed_engine, clock, settings) == {"sent": 1}, "the third one"

    held = row(committed_engine, "c2")
    assert held.status == "pending"
    assert held.next_attempt_at == monday + timedelta(days=2)
    assert held.held is not None
    assert held.held["text"] == "held: at most 3 marketing emails per 2 days"
    clock.current = monday + timedelta(days=2)  # Monday's two sends leave the window
    assert await drain(committed_engine, clock, settings) == {"sent": 1}
    assert row(committed_engine, "c2").status == "sent"


async def test_a_send_held_three_days_by_a_cap_is_not_sent_with_the_reason_capped(
    committed_engine: Engine, clock: FrozenClock, settings: Settings
) -> None:
    clock.current = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    with session_scope(committed_engine) as session:
        rules(session, caps=[{"channel": "email", "max": 1, "per_days": 30}])
        add_template(session)
        welcome = scenario(session, "Welcome")
        lea = add_contact(session)
        send(session, clock, welcome, lea, key="first")
        send(session, clock, welcome, lea, key="second", node="later")
    assert await drain(committed_engine, clock, settings) == {"sent": 1}
    assert row(committed_engine, "second").next_attempt_at == clock.now() + timedelta(days=3)

    clock.advance(days=3)
    assert await drain(committed_engine, clock, settings) == {}

    second = row(committed_engine, "second")
    assert (second.status, second.last_error) == ("skipped", "Not sent: over the frequency cap.")
    with speaking("fr"):
        assert spoken(second.held) == "non envoyé : au-delà de la limite d’envois"


async def test_when_sends_compete_for_a_cap_promotional_ones_wait_first(
    committed_engine: Engine, clock: FrozenClock, settings: Settings
) -> None:
    clock.current = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    with session_scope(committed_engine) as session:
        add_template(session)
        sale, onboarding = scenario(session, "Sale"), scenario(session, "Onboarding")
        rules(
            session,
            caps=[{"channel": "email", "max": 1, "per_days": 1}],
            priority={str(sale.scenario_id): "promotional"},
        )
        lea = add_contact(session)
        send(session, clock, sale, lea, key="sale")  # queued first, but promotional
        send(session, clock, onboarding, lea, key="onboarding")

    assert await drain(committed_engine, clock, settings) == {"sent": 1}
    assert row(committed_engine, "onboarding").status == "sent"
    sale_row = row(committed_engine, "sale")
    assert sale_row.status == "pending"
    assert sale_row.held is not None
    assert sale_row.held["text"] == "held: at most 1 marketing email a day"


async def test_a_hold_is_counted_once_as_deferred_on_its_block_and_reads_in_french(
    committed_engine: Engine, clock: FrozenClock, settings: Settings
) -> None:
    with session_scope(committed_engine) as session:
        rules(session, quiet_hours=QUIET)
        add_template(session)
        welcome = scenario(session, "Welcome")
        paris = add_contact(session, timezone="Europe/Paris")
        send(session, clock, welcome, paris, key="paris")
    await drain(committed_engine, clock, settings)
    clock.advance(hours=1)  # still night: held again, the same row
    await drain(committed_engine, clock, settings)

    with session_scope(committed_engine) as session:
        version = session.get(type(welcome), welcome.id)
        assert version is not None
        assert version_stats(session, version).nodes["send"].deferred == 1
        assert session.get(Scenario, welcome.scenario_id) is not None
    held = row(committed_engine, "paris").held
    assert held is not None
    with speaking("en", "Europe/Paris"):
        assert spoken(held) == "held until Tue, Jan 6, 8:00\u202fAM: quiet hours"
    with speaking("fr", "Europe/Paris"):
        assert spoken(held) == "retenu jusqu’au mar. 6 janv., 08:00 : heures calmes"


async def test_a_first_hold_adds_to_the_blocks_hot_deferred_counter(
    committed_engine: Engine, clock: FrozenClock, settings: Settings, redis: Any
) -> None:
    with session_scope(committed_engine) as session:
        rules(session, quiet_hours=QUIET)
        add_template(session)
        welcome = scenario(session, "Welcome")
        paris = add_contact(session, timezone="Europe/Paris")
        send(session, clock, welcome, paris, key="paris")
    counters = f"parcours:counters:{welcome.id}"
    await redis.hset(counters, mapping={"~built": 1})

    await drain(committed_engine, clock, settings, redis=redis)
    clock.advance(minutes=30)
    await drain(committed_engine, clock, settings, redis=redis)

    assert await redis.hget(counters, "send:deferred") == b"1"


async def test_a_chunk_held_back_entirely_does_not_keep_the_sends_behind_it_waiting(
    committed_engine: Engine, clock: FrozenClock, settings: Settings
) -> None:
    with session_scope(committed_engine) as session:
        rules(session, quiet_hours=QUIET)
        add_template(session)
        welcome = scenario(session, "Welcome")
        paris = add_contact(session, email="lea@example.com", timezone="Europe/Paris")
        new_york = add_contact(session, email="ann@example.com", timezone="America/New_York")
        send(session, clock, welcome, paris, key="paris")  # first in line, and it is night
        send(session, clock, welcome, new_york, key="new-york")  # 17:00 there
    one_at_a_time = with_settings(settings, delivery_chunk_size=1)

    assert await drain(committed_engine, clock, one_at_a_time) == {"sent": 1}
    assert row(committed_engine, "new-york").status == "sent"
