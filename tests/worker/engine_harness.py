"""Drives the engine in-process against the real database, with a clock the test moves."""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select
from sqlmodel import Session

from app.clock import FrozenClock
from app.models import (
    Contact,
    ContactList,
    Enrollment,
    Event,
    ListMembership,
    MessagePurpose,
    MessageTemplate,
    OutboxMessage,
    Scenario,
    StepLog,
)
from app.services.scenarios import scenarios
from worker.engine.advance import advance_chunk
from worker.engine.book import CounterKey
from worker.engine.plans import Plans
from worker.engine.triggers import match_events


@dataclass
class Engine:
    session: Session
    clock: FrozenClock = field(default_factory=FrozenClock)
    plans: Plans = field(default_factory=Plans)
    counters: Counter[CounterKey] = field(default_factory=Counter)
    chunk_size: int = 500

    # --- setting the scene ---------------------------------------------------------------

    def message(self, key: str, channel: str = "email", marketing: bool = True) -> None:
        purpose = MessagePurpose.marketing if marketing else MessagePurpose.transactional
        self.session.add(
            MessageTemplate(key=key, name=key, channel=channel, purpose=purpose, subject=key)  # type: ignore[arg-type]
        )
        self.session.flush()

    def list(self, key: str) -> ContactList:
        lst = ContactList(key=key, name=key)
        self.session.add(lst)
        self.session.flush()
        return lst

    def scenario(self, graph: dict[str, Any], name: str = "Test") -> Scenario:
        now = self.clock.now()
        scenario = scenarios.create_scenario(self.session, name=name, graph=graph, now=now)
        assert scenario.id is not None
        scenarios.activate(self.session, scenario.id, now=now)
        self.session.flush()
        return scenario

    def contact(self, email: str | None = None, **fields: Any) -> Contact:
        fields.setdefault("email_consent", True)
        contact = Contact(email=email or f"{uuid.uuid4().hex[:8]}@example.com", **fields)
        self.session.add(contact)
        self.session.flush()
        return contact

    def event(
        self,
        contact: Contact,
        name: str,
        uid: str | None = None,
        occurred_at: datetime | None = None,
        **properties: Any,
    ) -> None:
        self.session.execute(
            insert(Event),
            [
                {
                    "uid": uid or uuid.uuid4().hex,
                    "contact_id": contact.id,
                    "name": name,
                    "properties": properties,
                    "occurred_at": occurred_at or self.clock.now(),
                    "received_at": self.clock.now(),
                }
            ],
        )

    # --- running -------------------------------------------------------------------------

    def run(self, batch: int | None = None) -> int:
        """Matches events (``batch`` at a time) and advances chunks until nothing is due now;
        returns the steps."""
        steps = 0
        while True:
            now = self.clock.now()
            matched = match_events(self.session, self.plans, now, *([batch] if batch else []))
            chunk = advance_chunk(self.session, self.plans, now, self.chunk_size)
            for report in (matched, chunk):
                if report is not None:
                    self.counters.update(report.counters)
            steps += sum(report.steps for report in (matched, chunk) if report is not None)
            if matched is None and chunk is None:
                self.session.expire_all()  # the engine writes with Core statements
                return steps

    def later(self, **delta: float) -> int:
        self.clock.advance(**delta)
        return self.run()

    # --- looking -------------------------------------------------------------------------

    def enrollments(self, scenario: Scenario) -> list[Enrollment]:
        return list(
            self.session.exec(
                select(Enrollment)
                .where(Enrollment.scenario_id == scenario.id)
                .order_by(Enrollment.id)  # type: ignore[arg-type]
            ).scalars()
        )

    def journey(self, contact: Contact, scenario: Scenario) -> list[tuple[str, str]]:
        rows = self.session.execute(
            select(StepLog.node_id, StepLog.outcome)
            .where(StepLog.contact_id == contact.id, StepLog.scenario_id == scenario.id)
            .order_by(StepLog.id)
        )
        return [(node, outcome) for node, outcome in rows]

    def sent(self) -> list[tuple[int | None, str, str]]:
        rows = self.session.execute(
            select(OutboxMessage.contact_id, OutboxMessage.channel, OutboxMessage.payload).order_by(
                OutboxMessage.id
            )
        )
        return [(c, ch, p.get("message") or p.get("url") or p.get("to")) for c, ch, p in rows]

    def members(self, key: str) -> set[int]:
        rows = self.session.execute(
            select(ListMembership.contact_id)
            .join(ContactList, ContactList.id == ListMembership.list_id)  # type: ignore[arg-type]
            .where(ContactList.key == key)
        )
        return {contact_id for (contact_id,) in rows}

    def system_events(self, name: str) -> int:
        query = select(func.count()).select_from(Event).where(Event.name == name)
        return int(self.session.execute(query).scalar_one())
