"""A send the sending rules hold back is explained: a line on the contact's journey, in the
reader's language, and a ``deferred`` count on its block."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlmodel import Session, select

from app.clock import FrozenClock
from app.models import OutboxMessage, Scenario
from app.services.messaging.sending_rules import SendingRulesIn, load, write
from tests.fixtures.web import Browser
from tests.worker.engine_harness import Engine
from tests.worker.test_engine_journeys import graph
from worker.delivery.pacing import Candidate, pace

NIGHT = datetime(2026, 1, 5, 22, 0, tzinfo=UTC)  # 23:00 in Paris
WELCOME = graph(
    [
        {"id": "signup", "type": "trigger", "kind": "event", "config": {"event": "signup"}},
        {"id": "hello", "type": "action", "kind": "send_email", "config": {"message": "hello"}},
    ],
    [("signup", "hello")],
)


@pytest.fixture
def flow(session: Session) -> Engine:
    return Engine(session, clock=FrozenClock(NIGHT))


def held_at_night(flow: Engine, rules: dict) -> tuple[Scenario, int]:  # type: ignore[type-arg]
    flow.message("hello")
    scenario = flow.scenario(WELCOME, name="Welcome")
    lea = flow.contact("lea@example.com", timezone="Europe/Paris")
    flow.event(lea, "signup")
    flow.run()
    write(flow.session, SendingRulesIn.model_validate(rules))
    # What the delivery worker's claim does with the chunk, at 23:00 in Paris.
    sends = [
        Candidate(
            id=r.id or 0,
            channel=r.channel,
            contact_id=r.contact_id or 0,
            scenario_id=r.scenario_id,
            node_id=r.node_id,
            enrollment_id=r.enrollment_id,
            message=str(r.payload["message"]),
            counted=False,
            held_since=None,
        )
        for r in flow.session.exec(select(OutboxMessage)).all()
    ]
    pace(flow.session, sends, flow.clock.now(), load(flow.session))
    flow.session.commit()
    assert lea.id is not None
    return scenario, lea.id


QUIET = {"quiet_hours": {"start": "21:00", "end": "08:00"}}


def test_the_journey_says_until_when_and_why_a_send_is_held(
    logged_in: Browser, flow: Engine
) -> None:
    scenario, lea = held_at_night(flow, QUIET)

    page = logged_in.client.get(f"/scenarios/{scenario.id}/contacts/{lea}")

    text = re.sub(r"\s+", " ", page.text)
    assert page.status_code == 200
    assert 'data-testid="step-hello-deferred"' in text
    assert "held until" in text
    assert "quiet hours" in text
    stats = logged_in.client.get(f"/scenarios/{scenario.id}/stats").text
    assert 'data-counter="deferred"' in stats


def test_the_journey_line_reads_in_french(french: Browser, flow: Engine) -> None:
    scenario, lea = held_at_night(flow, QUIET)

    text = re.sub(r"\s+", " ", french.client.get(f"/scenarios/{scenario.id}/contacts/{lea}").text)

    assert "retenu jusqu’au" in text
    assert "heures calmes" in text
    assert ">retenu<" in text
