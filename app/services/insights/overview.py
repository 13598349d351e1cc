"""The figures on the home page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session, col

from app.models import Contact, Event, OutboxMessage, OutboxStatus, Scenario, ScenarioStatus


@dataclass(frozen=True)
class Overview:
    contacts: int
    contacts_with_email_consent: int
    active_scenarios: int
    scenarios: int
    events_last_24h: int
    messages_sent_last_24h: int


def _count(session: Session, model: Any, *where: Any) -> int:
    return int(session.execute(select(func.count()).select_from(model).where(*where)).scalar_one())


def overview(session: Session, now: datetime) -> Overview:
    day_ago = now - timedelta(days=1)
    kept = col(Scenario.archived_at).is_(None)  # an archived scenario no longer counts
    return Overview(
        contacts=_count(session, Contact),
        contacts_with_email_consent=_count(session, Contact, col(Contact.email_consent).is_(True)),
        active_scenarios=_count(
            session, Scenario, col(Scenario.status) == ScenarioStatus.active, kept
        ),
        scenarios=_count(session, Scenario, kept),
        events_last_24h=_count(session, Event, col(Event.occurred_at) >= day_ago),
        messages_sent_last_24h=_count(
            session,
            OutboxMessage,
            col(OutboxMessage.status) == OutboxStatus.sent,
            col(OutboxMessage.sent_at) >= day_ago,
        ),
    )
