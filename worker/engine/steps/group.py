"""The contacts of a chunk that reached one block in one round, and what a step may do."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, SQLModel

from app.bulk import among, is_postgres
from app.graph import Plan
from app.graph.block_base import BlockBase
from app.models import EnrollmentState, StepOutcome
from app.services.messaging.topic_choices import left_topics
from app.services.messaging.topics import topic_names
from worker.engine.book import Book
from worker.engine.visit import ACTIVE, WAITING, Visit

CONTACTS = SQLModel.metadata.tables["contacts"]
LISTS = SQLModel.metadata.tables["lists"]
MESSAGES = SQLModel.metadata.tables["message_templates"]


class StepError(Exception):
    """A step that cannot be done as configured (e.g. its list was deleted); retried, then
    the enrollment is marked failed with this message."""


class ChunkData:
    """Look-ups shared by every block of a chunk, each loaded at most once."""

    def __init__(self, session: Session, contact_ids: set[int], *, lock: bool = False) -> None:
        self.session = session
        query = select(
            CONTACTS.c.id,
            CONTACTS.c.email,
            CONTACTS.c.phone,
            CONTACTS.c.first_name,
            CONTACTS.c.last_name,
            CONTACTS.c.birthday,
            CONTACTS.c.timezone,
            CONTACTS.c.email_consent,
            CONTACTS.c.sms_consent,
            CONTACTS.c.email_status,
            CONTACTS.c.score,
            CONTACTS.c.created_at,
            CONTACTS.c.attributes,
        ).where(among(session, CONTACTS.c.id, contact_ids))
        if lock and is_postgres(session):
            # Attribute changes are computed from these values: hold them until the chunk
            # commits (in id order, so two chunks never wait on each other in a circle).
            query = query.order_by(CONTACTS.c.id).with_for_update()
        self.contacts = {row.id: row for row in session.execute(query)}
        self.rows = {contact_id: row._mapping for contact_id, row in self.contacts.items()}
        self._lists: dict[str, int] | None = None
        self._messages: dict[str, tuple[str, str]] | None = None
        self._topics: tuple[dict[str, str], dict[str, str]] | None = None
        self._left_topics: dict[int, set[str]] | None = None

    def list_id(self, key: str) -> int:
        if self._lists is None:
            self._lists = dict(self.session.execute(select(LISTS.c.key, LISTS.c.id)).all())
        if key not in self._lists:
            raise StepError(f"The list “{key}” no longer exists.")
        return self._lists[key]

    def message(self, key: str) -> tuple[str, str]:
        """(channel, purpose) of a message template."""
        if self._messages is None:
            self._messages = {
                row.key: (row.channel, row.purpose)
                for row in self.session.execute(
                    select(MESSAGES.c.key, MESSAGES.c.channel, MESSAGES.c.purpose)
                )
            }
        if key not in self._messages:
            raise StepError(f"The message “{key}” no longer exists.")
        return self._messages[key]

    def message_topic(self, key: str) -> tuple[str, str] | None:
        """(key, name) of the topic a message carries, or None (DESIGN §12.3)."""
        if self._topics is None:
            of_message = self.session.execute(
                select(MESSAGES.c.key, MESSAGES.c.topic).where(MESSAGES.c.topic.is_not(None))
            )
            self._topics = (dict(of_message.all()), topic_names(self.session))
        topic = self._topics[0].get(key)
        return (topic, self._topics[1].get(topic, topic)) if topic is not None else None

    def left_topic(self, contact_id: int, topic: str) -> bool:
        """Whether the contact left the topic; the chunk's choices are read in one query."""
        if self._left_topics is None:
            self._left_topics = left_topics(self.session, self.contacts)
        return topic in self._left_topics.get(contact_id, ())


@dataclass
class Group:
    session: Session
    plan: Plan
    block: BlockBase
    visits: list[Visit]
    book: Book
    chunk: ChunkData
    now: datetime

    @property
    def config(self) -> Any:
        return self.block.config

    def leave(
        self,
        visit: Visit,
        port: str,
        outcome: StepOutcome = StepOutcome.completed,
        detail: dict[str, Any] | None = None,
    ) -> None:
        self.book.step(visit, outcome, detail)
        visit.state = ACTIVE
        visit.port = port

    def park(
        self,
        visit: Visit,
        until: datetime,
        *,
        wait_event: str | None = None,
        wait_key: str | None = None,
        wake_port: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        self.book.step(visit, StepOutcome.waiting, detail)
        visit.state = WAITING
        visit.wake_at = until
        visit.wait_event, visit.wait_key, visit.wake_port = wait_event, wait_key, wake_port

    def end(
        self,
        visit: Visit,
        state: EnrollmentState,
        outcome: StepOutcome = StepOutcome.completed,
        detail: dict[str, Any] | None = None,
    ) -> None:
        self.book.step(visit, outcome, detail)
        visit.finish(state.value, self.now)

    def later(self, seconds: int) -> datetime:
        return self.now + timedelta(seconds=seconds)
