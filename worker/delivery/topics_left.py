"""The topics a delivery chunk's contacts left (DESIGN §12.3), read once per chunk.

A marketing email whose topic its contact left is skipped at send with the topic's name, as
the engine skips it at the block; the preference page cancels pending ones, and this catches
a row claimed in between.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlmodel import Session

from app.models import MessageTemplate
from app.services.messaging import topic_reasons
from app.services.messaging.topic_choices import left_topics
from app.services.messaging.topics import topic_names
from worker.delivery.store import Claimed


@dataclass
class TopicsLeft:
    by_contact: dict[int, set[str]] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)

    @classmethod
    def read(
        cls, session: Session, rows: list[Claimed], templates: Iterable[MessageTemplate]
    ) -> TopicsLeft:
        """Two queries when a template of the chunk has a topic, none otherwise."""
        if not any(t.topic for t in templates):
            return cls()
        ids = {r.contact_id for r in rows if r.contact_id is not None}
        return cls(left_topics(session, ids), topic_names(session))

    def left(self, contact_id: int | None, template: MessageTemplate) -> bool:
        if template.topic is None or contact_id is None:
            return False
        return template.topic in self.by_contact.get(contact_id, ())

    def reason(self, template: MessageTemplate) -> str:
        topic = str(template.topic)
        return topic_reasons.outbox_reason(self.names.get(topic, topic))
