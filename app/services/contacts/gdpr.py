"""GDPR: export everything held about a contact, and erase them on request.

Erasure deletes the contact and their journey steps; the database cascades remove their list
memberships, events and enrollments. Their messages (pending sends in the outbox and copies in the
built-in mailbox) are deleted too, since they hold the address and the rendered text. What
stays is one suppression row: a SHA-256 of the normalised email, with no other data. While it
stays:

- a CSV import skips that email, reporting the row as "erased on request";
- the API and the tracking snippet may create the contact again (the shop is telling us about
  a new interaction) but never grant it email or SMS consent, so it gets no marketing;
- a marketer can lift the suppression from the contact's page once the person has opted in
  again, which lets consent be granted anew.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlmodel import Session, SQLModel, col

from app.models import Event, Suppression
from app.services.contacts.contacts import CONTACTS, get_contact
from app.services.contacts.fields import email_hash
from app.services.contacts.lists import MEMBERSHIPS
from app.services.contacts.views import contact_document, event_json, table_rows
from app.services.messaging import topic_choices

EXPORT_FORMAT = "parcours.contact-export"
ERASED_REASON = "erased on request"
# Tables outside this area that hold a copy of a contact's personal data.
MESSAGE_TABLES = ("outbox", "mailbox_messages")
LISTS = SQLModel.metadata.tables["lists"]
STEP_LOG = SQLModel.metadata.tables["step_log"]
ENROLLMENTS = SQLModel.metadata.tables["enrollments"]


def export_contact(session: Session, contact_id: int, now: datetime) -> dict[str, Any]:
    contact = get_contact(session, contact_id)
    lists = session.execute(
        select(LISTS.c.key, MEMBERSHIPS.c.added_at, MEMBERSHIPS.c.source)
        .join(MEMBERSHIPS, MEMBERSHIPS.c.list_id == LISTS.c.id)
        .where(MEMBERSHIPS.c.contact_id == contact_id)
    ).all()
    events = session.scalars(
        select(Event).where(col(Event.contact_id) == contact_id).order_by(col(Event.id))
    )
    return {
        "format": EXPORT_FORMAT,
        "version": 1,
        "exported_at": now.isoformat(),
        "contact": contact_document(session, contact, with_enrollments=False),
        "list_memberships": [
            {"list": key, "added_at": added_at.isoformat(), "source": source}
            for key, added_at, source in lists
        ],
        "topic_choices": topic_choices.export_rows(session, contact_id),
        # The signup forms' proofs of consent, and the confirmations still waiting.
        "consent_proofs": table_rows(session, "consent_proofs", contact_id),
        "form_confirmations": table_rows(session, "form_confirmations", contact_id),
        "events": [event_json(event) for event in events],
        "enrollments": table_rows(session, "enrollments", contact_id),
        "journey_steps": table_rows(session, "step_log", contact_id),
        "messages": {name: table_rows(session, name, contact_id) for name in MESSAGE_TABLES},
    }


def erase_contact(session: Session, contact_id: int, now: datetime) -> dict[str, Any]:
    """Deletes the contact and what cascades from it; keeps only the email's hash."""
    contact = get_contact(session, contact_id)
    email = contact.email
    # Wait for the engine's transactions on this contact: a chunk moving one of their journeys
    # holds it, one starting a journey holds the contact (PostgreSQL; SQLite has one writer).
    # What they wrote is then visible, and deleted below with the rest.
    journeys = select(ENROLLMENTS.c.id).where(ENROLLMENTS.c.contact_id == contact_id)
    session.execute(journeys.with_for_update())
    session.execute(select(CONTACTS.c.id).where(CONTACTS.c.id == contact_id).with_for_update())
    removed: dict[str, int] = {}
    for name in MESSAGE_TABLES:
        table = SQLModel.metadata.tables.get(name)
        if table is not None and "contact_id" in table.c:
            result = session.execute(delete(table).where(table.c.contact_id == contact_id))
            removed[name] = int(getattr(result, "rowcount", 0) or 0)
    session.execute(delete(STEP_LOG).where(STEP_LOG.c.enrollment_id.in_(journeys)))
    session.expunge(contact)
    session.execute(delete(CONTACTS).where(CONTACTS.c.id == contact_id))
    suppressed = False
    if email:
        digest = email_hash(email)
        if session.get(Suppression, digest) is None:
            session.add(Suppression(email_hash=digest, reason=ERASED_REASON, created_at=now))
        suppressed = True
    session.flush()
    return {"erased": True, "id": contact_id, "suppressed": suppressed, "messages": removed}


def lift_suppression(session: Session, email: str) -> bool:
    """The person opted in again: their email may receive consent (and be imported) again."""
    result = session.execute(
        delete(Suppression).where(col(Suppression.email_hash) == email_hash(email))
    )
    return bool(getattr(result, "rowcount", 0))
