"""Entering a segment starts a journey; members at the first check do not all enter at once."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import Session, select

from app.models import Segment
from app.services.contacts import segments
from tests.worker.engine_harness import Engine
from tests.worker.test_engine_journeys import graph
from worker.engine.segments import check_segments


@pytest.fixture
def engine(session: Session) -> Engine:
    engine = Engine(session)
    session.add(
        Segment(key="vip", name="VIP", condition={"attribute": "score", "op": "gte", "value": 50})
    )
    engine.list("vip-welcomed")
    engine.scenario(
        graph(
            [
                {
                    "id": "in",
                    "type": "trigger",
                    "kind": "segment_entered",
                    "config": {"segment": "vip"},
                },
                {
                    "id": "tag",
                    "type": "action",
                    "kind": "add_to_list",
                    "config": {"list": "vip-welcomed"},
                },
            ],
            [("in", "tag")],
            reentry="after_exit",
        )
    )
    return engine


def check(engine: Engine) -> int:
    entered = check_segments(engine.session, engine.plans, engine.clock.now())
    engine.run()
    return entered


def test_newcomers_enter_and_members_at_the_first_check_do_not(engine: Engine) -> None:
    already = engine.contact(score=80)
    rising = engine.contact(score=10)
    assert check(engine) == 0

    rising.score = 60
    engine.session.add(rising)
    engine.session.flush()
    assert check(engine) == 1
    assert check(engine) == 0

    assert engine.members("vip-welcomed") == {rising.id}
    assert already.id not in engine.members("vip-welcomed")


def test_leaving_and_coming_back_enters_again(engine: Engine) -> None:
    contact = engine.contact(score=0)
    check(engine)
    for score in (70, 0, 90):
        contact.score = score
        engine.session.add(contact)
        engine.session.flush()
        check(engine)

    from app.models import Enrollment

    assert len(engine.session.exec(select(Enrollment)).all()) == 2


# --- a segment that cannot be evaluated ---------------------------------------------------------

# Planted as an old version or a hand edit could leave it: the save-time limits refuse it, and
# neither database can run it (no driver binds 2^63 where the count of events is compared).
IMPOSSIBLE = {"event": "purchase", "op": "count_gte", "value": 2**63}
IMPOSSIBLE_REASON = (
    "This segment could not be evaluated: value: the number of times can be at most 1,000,000."
    " Correct it and save it again."
)


def watch(engine: Engine, key: str, condition: dict[str, Any]) -> Segment:
    """A segment (stored as is, bypassing validation) that a live scenario listens to."""
    segment = Segment(key=key, name=key, condition=condition)
    engine.session.add(segment)
    engine.list(f"{key}-welcomed")
    engine.scenario(
        graph(
            [
                {"id": "in", "type": "trigger", "kind": "segment_entered", "config": {"segment": key}},
                {"id": "tag", "type": "action", "kind": "add_to_list", "config": {"list": f"{key}-welcomed"}},
            ],
            [("in", "tag")],
            reentry="after_exit",
        ),
        name=key,
    )  # fmt: skip
    return segment


def stored(engine: Engine, key: str) -> Segment:
    segment = engine.session.exec(select(Segment).where(Segment.key == key)).one()
    engine.session.refresh(segment)
    return segment


def test_a_segment_that_cannot_be_evaluated_is_marked_broken_and_the_others_still_enroll(
    engine: Engine,
) -> None:
    watch(engine, "impossible", IMPOSSIBLE)  # checked before "vip": its failure comes first
    rising = engine.contact(score=10)
    check(engine)

    rising.score = 60
    engine.session.add(rising)
    engine.session.flush()
    assert check(engine) == 1

    assert engine.members("vip-welcomed") == {rising.id}
    broken = stored(engine, "impossible")
    assert broken.broken_reason == IMPOSSIBLE_REASON
    assert broken.broken_at == engine.clock.now()
    assert stored(engine, "vip").broken_reason is None


def test_a_broken_segment_keeps_the_time_it_was_first_found_broken(engine: Engine) -> None:
    watch(engine, "impossible", IMPOSSIBLE)
    check(engine)
    found = engine.clock.now()

    engine.later(minutes=5)
    check(engine)

    assert stored(engine, "impossible").broken_at == found


def test_saving_a_broken_segment_again_clears_the_mark_and_the_next_check_keeps_it_clear(
    engine: Engine,
) -> None:
    watch(engine, "impossible", IMPOSSIBLE)
    buyer = engine.contact(score=0)
    check(engine)
    assert stored(engine, "impossible").broken_reason == IMPOSSIBLE_REASON

    fixed = {"event": "purchase", "op": "count_gte", "value": 1}
    segments.save_segment(
        engine.session,
        key="impossible",
        name="Buyers",
        description="",
        condition=fixed,
        now=engine.clock.now(),
        existing=stored(engine, "impossible"),
    )
    assert stored(engine, "impossible").broken_reason is None
    assert stored(engine, "impossible").broken_at is None

    engine.later(minutes=1)
    engine.event(buyer, "purchase")
    engine.run()
    check(engine)  # its first successful check only records who is in
    assert stored(engine, "impossible").broken_reason is None


def test_a_later_successful_check_clears_the_mark(engine: Engine) -> None:
    vip = stored(engine, "vip")
    vip.broken_reason, vip.broken_at = "This segment could not be evaluated: …", engine.clock.now()
    engine.session.add(vip)
    engine.session.flush()

    check(engine)

    assert stored(engine, "vip").broken_reason is None
    assert stored(engine, "vip").broken_at is None


def test_a_count_beyond_postgresql_integers_breaks_only_its_segment(engine: Engine) -> None:
    if engine.session.get_bind().dialect.name != "postgresql":
        pytest.skip("SQLite compares counts as 64-bit integers: 2^31 evaluates there")
    watch(engine, "many-orders", {"event": "purchase", "op": "count_gte", "value": 2**31})
    rising = engine.contact(score=10)
    check(engine)
    rising.score = 99
    engine.session.add(rising)
    engine.session.flush()

    assert check(engine) == 1
    assert stored(engine, "many-orders").broken_reason == (
        "This segment could not be evaluated: value: the number of times can be at most"
        " 1,000,000. Correct it and save it again."
    )


def test_a_condition_that_no_longer_parses_is_marked_broken_with_what_is_wrong(
    engine: Engine,
) -> None:
    watch(engine, "old", {"attribute": "city", "op": "resembles", "value": "Lyon"})
    check(engine)

    reason = stored(engine, "old").broken_reason
    assert reason is not None
    assert reason.startswith("This segment could not be evaluated: operator: choose one of")
