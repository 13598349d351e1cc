"""Entering a segment starts a journey; members at the first check do not all enter at once."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from app.models import Segment
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

    from sqlmodel import select

    from app.models import Enrollment

    assert len(engine.session.exec(select(Enrollment)).all()) == 2
