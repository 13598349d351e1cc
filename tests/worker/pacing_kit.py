"""Set-up for the sending-rules tests: scenarios with a live version, journeys, sends."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, select

from app.clock import FrozenClock
from app.db import session_scope
from app.models import Contact, Enrollment, OutboxMessage, Scenario, ScenarioVersion
from app.services.messaging import sending_rules
from app.services.messaging.outbox import OutboxEntry, add_to_outbox
from app.services.messaging.sending_rules import SendingRulesIn


def scenario(session: Session, name: str, *, quiet_hours: str | None = None) -> ScenarioVersion:
    found = Scenario(name=name, status="active", live_version=1)
    session.add(found)
    session.flush()
    settings: dict[str, Any] = {"reentry": "once"}
    if quiet_hours is not None:
        settings["quiet_hours"] = quiet_hours
    graph = {"schema": 1, "nodes": [], "edges": [], "settings": settings}
    version = ScenarioVersion(scenario_id=found.id, number=1, graph=graph, plan={})  # type: ignore[arg-type]
    session.add(version)
    session.flush()
    return version


def send(
    session: Session,
    clock: FrozenClock,
    version: ScenarioVersion,
    contact: Contact,
    *,
    key: str,
    message: str = "cart",
    node: str = "send",
    channel: str = "email",
) -> None:
    journey = Enrollment(
        scenario_id=version.scenario_id,
        version_id=version.id,  # type: ignore[arg-type]
        contact_id=contact.id,  # type: ignore[arg-type]
        node_id=node,
        state="completed",
    )
    session.add(journey)
    session.flush()
    entry = OutboxEntry(
        idempotency_key=key,
        channel=channel,  # type: ignore[arg-type]
        contact_id=contact.id,
        payload={"message": message, "event": {}},
        scenario_id=version.scenario_id,
        enrollment_id=journey.id,
        node_id=node,
    )
    add_to_outbox(session, [entry], clock.now())


def rules(session: Session, **values: Any) -> None:
    sending_rules.write(session, SendingRulesIn.model_validate(values))


def row(engine: Engine, key: str) -> OutboxMessage:
    with session_scope(engine) as session:
        found = session.exec(select(OutboxMessage).where(OutboxMessage.idempotency_key == key))
        return found.one()


def statuses(engine: Engine) -> dict[str, tuple[str, datetime | None]]:
    with session_scope(engine) as session:
        return {
            r.idempotency_key: (r.status, r.next_attempt_at)
            for r in session.exec(select(OutboxMessage)).all()
        }
