"""What a site key may write: a visitor's events, and their names only when it creates them.

The site key is public (it is in the shop's pages), so anyone can call with any email. It may
create an unknown contact and attach events to it or to an existing contact found by email,
but it never changes an existing contact: names, phone, attributes and consent stay as the
shop's server (with the API key), an import or a marketer set them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlmodel import Session

from app.services.contacts.contacts import (
    CONTACT_CREATED,
    CONTACTS,
    change_event,
    contact_ids_by,
    new_contact_row,
    record_events,
)
from app.services.contacts.events import EventIn, ingest, insert_contacts
from app.services.contacts.fields import ContactData


def record_visit(
    session: Session, visitor: ContactData | None, events: Sequence[EventIn], now: datetime
) -> None:
    """Stores the events; ``visitor`` (email and names) is used only if the email is new."""
    if visitor is not None:
        create_if_unknown(session, visitor, now)
    if events:
        ingest(session, events, now)


def create_if_unknown(session: Session, visitor: ContactData, now: datetime) -> int | None:
    """The new contact's id, or None when someone already has this email (left untouched)."""
    email = visitor.email
    assert email is not None
    if contact_ids_by(session, CONTACTS.c.email, [email]):
        return None
    # A concurrent request for the same visitor (two tabs) may insert first: nothing to do then.
    created = insert_contacts(session, [new_contact_row(now, **visitor.fields)], CONTACTS.c.email)
    contact_id = created.get(email)
    if contact_id is not None:
        record_events(session, [change_event(contact_id, CONTACT_CREATED, {}, now)])
    return contact_id
