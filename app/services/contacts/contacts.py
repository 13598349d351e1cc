"""Contacts: upsert by email or external id, and the change events triggers listen to.

Every change a trigger can react to is written to ``events`` in the same transaction as the
change (DESIGN §5, reserved names below); the engine picks them up once the caller commits and
kicks ``match_triggers``. A consent given or withdrawn through an update is
``consent_changed {channel, from, to}`` (an unsubscribe link writes ``email_unsubscribed``
instead, ``app/services/messaging/unsubscribe.py``), so a wait for a condition on consent
wakes. Score changes are recorded as ``score_changed`` only, not also as
``attribute_changed``; a new contact records ``contact_created`` only, not one
``attribute_changed`` per initial value.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import insert, select
from sqlmodel import Session, SQLModel, col

from app.bulk import rows_where_in
from app.i18n import _
from app.models import Contact, Suppression
from app.services.contacts.fields import ContactData, email_hash
from app.services.errors import Conflict, Invalid, NotFound
from app.services.unique_rows import add_unique

CONTACTS = SQLModel.metadata.tables["contacts"]
EVENTS = SQLModel.metadata.tables["events"]

CONTACT_CREATED = "contact_created"
ATTRIBUTE_CHANGED = "attribute_changed"
SCORE_CHANGED = "score_changed"
LIST_ADDED = "list_added"
LIST_REMOVED = "list_removed"
CONSENT_CHANGED = "consent_changed"
# What Parcours records about its own emails (app/services/messaging/tracking.py,
# unsubscribe.py): the
# open and click rates and the scenarios that wait for them must only count real ones.
# Bounces and complaints (messaging/bounces.py) are Parcours's to record too.
EMAIL_EVENTS = frozenset(
    {"email_opened", "email_clicked", "email_unsubscribed", "email_bounced", "email_complained"}
)
# What the signup forms record (app/services/capture/optin.py): a scenario started by a
# confirmed opt-in must only ever be started by one.
FORM_EVENTS = frozenset({"form_submitted", "optin_confirmed"})
# Names clients may not send (compared in lower case, so Email_Opened is refused too).
RESERVED_EVENTS = (
    frozenset(
        {
            CONTACT_CREATED,
            ATTRIBUTE_CHANGED,
            SCORE_CHANGED,
            LIST_ADDED,
            LIST_REMOVED,
            CONSENT_CHANGED,
        }
    )
    | EMAIL_EVENTS
    | FORM_EVENTS
)


def json_value(value: object) -> object:
    return value.isoformat() if isinstance(value, date | datetime) else value


def change_event(contact_id: int, name: str, properties: dict[str, Any], now: datetime) -> dict:
    """An ``events`` row for a change made by Parcours itself (its uid is ours)."""
    return {
        "uid": uuid.uuid4().hex,
        "contact_id": contact_id,
        "name": name,
        "properties": properties,
        "occurred_at": now,
        "received_at": now,
        "processed_at": None,
    }


def record_events(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        session.execute(insert(EVENTS), list(rows))


def new_contact_row(now: datetime, **values: Any) -> dict[str, Any]:
    """Every column of a new ``contacts`` row (bulk inserts bypass the model's defaults)."""
    row: dict[str, Any] = {
        "external_id": None,
        "email": None,
        "phone": None,
        "first_name": None,
        "last_name": None,
        "birthday": None,
        "timezone": "UTC",
        "language": None,
        "score": 0,
        "attributes": {},
        "email_consent": False,
        "email_consent_source": None,
        "email_consent_at": None,
        "sms_consent": False,
        "sms_consent_source": None,
        "sms_consent_at": None,
        "created_at": now,
        "updated_at": now,
    }
    row.update(values)
    return row


def contact_ids_by(session: Session, column: Any, values: Iterable[Any]) -> dict[Any, int]:
    """value -> contact id, for the values of ``column`` (email, external_id, id) that exist."""
    found = rows_where_in(session, CONTACTS, column.name, list(values), (column.name, "id"))
    return {value: cid for value, cid in found}


def is_suppressed(session: Session, email: str | None) -> bool:
    if email is None:
        return False
    return session.get(Suppression, email_hash(email)) is not None


def suppressed_emails(session: Session, emails: Iterable[str]) -> set[str]:
    by_hash = {email_hash(email): email for email in emails}
    if not by_hash:
        return set()
    found = session.execute(
        select(col(Suppression.email_hash)).where(col(Suppression.email_hash).in_(list(by_hash)))
    ).scalars()
    return {by_hash[h] for h in found}


@dataclass
class UpsertResult:
    contact: Contact
    created: bool
    changed: list[str] = field(default_factory=list)  # attribute names that changed
    # The email was erased on request: consent was not granted (see app/services/contacts/gdpr.py).
    suppressed: bool = False


def find_contact(
    session: Session, *, email: str | None = None, external_id: str | None = None
) -> Contact | None:
    if email is not None:
        contact = session.scalars(select(Contact).where(col(Contact.email) == email)).first()
        if contact is not None:
            return contact
    if external_id is not None:
        query = select(Contact).where(col(Contact.external_id) == external_id)
        return session.scalars(query).first()
    return None


def get_contact(session: Session, contact_id: int) -> Contact:
    contact = session.get(Contact, contact_id)
    if contact is None:
        raise NotFound(_("There is no contact with id %(id)s.") % {"id": contact_id})
    return contact


def upsert_contact(
    session: Session, data: ContactData, *, now: datetime, source: str
) -> UpsertResult:
    """Creates or updates one contact, recording what changed; the caller commits."""
    email, external_id = data.email, data.external_id
    if email is None and external_id is None:
        raise Invalid("Give the contact an email or an external_id, so Parcours knows who it is.")
    by_email = find_contact(session, email=email) if email else None
    by_external = find_contact(session, external_id=external_id) if external_id else None
    if by_email is not None and by_external is not None and by_email.id != by_external.id:
        raise Conflict(
            f"The email {email} belongs to contact {by_email.id} but the external id "
            f"{external_id} to contact {by_external.id}; they cannot be merged automatically."
        )
    contact = by_email or by_external
    suppressed = is_suppressed(session, email)
    if contact is None:
        contact = _new_contact(data, now=now, source=source, suppressed=suppressed)
        if add_unique(session, contact):
            assert contact.id is not None
            record_events(session, [change_event(contact.id, CONTACT_CREATED, {}, now)])
            return UpsertResult(contact, created=True, suppressed=suppressed)
        # Another request created this contact a moment ago: update it as if it had been found.
        found = find_contact(session, email=email, external_id=external_id)
        if found is None:
            raise Conflict("This contact was being saved by another request; send it again.")
        contact = found
    changed = _update(session, contact, data, now=now, source=source, suppressed=suppressed)
    return UpsertResult(contact, created=False, changed=changed, suppressed=suppressed)


def _new_contact(data: ContactData, *, now: datetime, source: str, suppressed: bool) -> Contact:
    attributes = {k: v for k, v in data.attributes.items() if v is not None}
    contact = Contact(
        **new_contact_row(now, external_id=data.external_id, attributes=attributes),
    )
    for name, value in data.fields.items():
        setattr(contact, name, value)
    _apply_consent(contact, data, source=source, suppressed=suppressed)
    return contact


def _update(
    session: Session,
    contact: Contact,
    data: ContactData,
    *,
    now: datetime,
    source: str,
    suppressed: bool,
) -> list[str]:
    changed, events, touched = apply_changes(
        contact, data, now=now, source=source, suppressed=suppressed
    )
    if touched:
        session.add(contact)
    record_events(session, events)
    return changed


def apply_changes(
    contact: Contact, data: ContactData, *, now: datetime, source: str, suppressed: bool
) -> tuple[list[str], list[dict[str, Any]], bool]:
    """Applies ``data`` to a loaded contact: (changed names, change events, touched at all)."""
    assert contact.id is not None
    events: list[dict[str, Any]] = []
    changed: list[str] = []
    touched = False
    if data.external_id is not None and contact.external_id != data.external_id:
        contact.external_id = data.external_id
        touched = True
    for name, value in data.fields.items():
        old = getattr(contact, name)
        if old == value:
            continue
        if name == "email" and value is None and contact.external_id is None:
            raise Invalid("A contact without an external_id must keep an email address.")
        setattr(contact, name, value)
        changed.append(name)
        if name == "email":
            # A new address has not bounced: what the old one did is forgotten (bounces.py).
            contact.email_status = contact.email_status_reason = None
            contact.email_status_at = None
            contact.email_soft_bounces = 0
        if name == "score":
            events.append(change_event(contact.id, SCORE_CHANGED, {"from": old, "to": value}, now))
        else:
            properties = {"attribute": name, "from": json_value(old), "to": json_value(value)}
            events.append(change_event(contact.id, ATTRIBUTE_CHANGED, properties, now))
    attributes = dict(contact.attributes or {})
    custom_changed = False
    for name, value in data.attributes.items():
        old = attributes.get(name)
        if old == value and type(old) is type(value):
            continue
        if value is None:
            attributes.pop(name, None)
        else:
            attributes[name] = value
        changed.append(name)
        custom_changed = True
        properties = {"attribute": name, "from": old, "to": value}
        events.append(change_event(contact.id, ATTRIBUTE_CHANGED, properties, now))
    if custom_changed:
        contact.attributes = attributes  # a new dict, so the JSON column is seen as changed
    consents = _apply_consent(contact, data, source=source, suppressed=suppressed)
    for channel, granted in consents:
        properties = {"channel": channel, "from": not granted, "to": granted}
        events.append(change_event(contact.id, CONSENT_CHANGED, properties, now))
    touched = touched or bool(changed) or bool(consents)
    if touched:
        contact.updated_at = now
    return changed, events, touched


def _apply_consent(
    contact: Contact, data: ContactData, *, source: str, suppressed: bool
) -> list[tuple[str, bool]]:
    """Applies the consent changes; returns (channel, granted) of each that changed."""
    changed: list[tuple[str, bool]] = []
    for channel, change in data.consent.items():
        if change.granted and suppressed:
            continue  # erased on request: only a lifted suppression lets consent back in
        if getattr(contact, f"{channel}_consent") == change.granted:
            continue
        setattr(contact, f"{channel}_consent", change.granted)
        setattr(contact, f"{channel}_consent_source", (change.source or source)[:200])
        setattr(contact, f"{channel}_consent_at", change.at)
        changed.append((channel, change.granted))
    return changed


def contact_page(session: Session, *, before: int | None, limit: int) -> Sequence[Contact]:
    """Newest first, keyset on the id: every page costs the same however deep."""
    query = select(Contact)
    if before is not None:
        query = query.where(col(Contact.id) < before)
    return session.scalars(query.order_by(col(Contact.id).desc()).limit(limit)).all()
