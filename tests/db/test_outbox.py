"""The outbox keeps one row per idempotency key, however often a step is replayed."""

from __future__ import annotations

from sqlmodel import Session, select

from app.clock import FrozenClock
from app.models import Contact, OutboxMessage
from app.services.messaging.outbox import OutboxEntry, add_to_outbox, step_key


def test_replayed_entries_are_added_once(session: Session) -> None:
    now = FrozenClock().now()
    contact = Contact(email="lea@example.com")
    session.add(contact)
    session.flush()
    entries = [
        OutboxEntry(step_key(1, "welcome", n), "email", contact.id, {"message": "welcome"})
        for n in range(3)
    ]

    assert len(add_to_outbox(session, entries, now)) == 3
    again = add_to_outbox(session, [*entries[1:], OutboxEntry("other", "sms", contact.id)], now)
    assert again == {"other"}

    keys = session.exec(select(OutboxMessage.idempotency_key)).all()
    assert sorted(keys) == ["1:welcome:0", "1:welcome:1", "1:welcome:2", "other"]
