"""The contacts a Segment call names, created or updated in bulk (DESIGN §12.1).

One query per kind of key loads the contacts already known (by ``userId`` = external id, by
email, by a linked anonymous id); the new ones are inserted in one statement and their
``contact_created`` events with them; known ones are changed through the same
``apply_changes`` as every other intake, so each change records its event. Nothing commits.

Who is who: ``userId`` wins. An email already held by another contact is not moved onto this
one (Parcours never merges two contacts by itself); the other traits are still applied.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col

from app.bulk import among, is_postgres
from app.models import Contact
from app.services.contacts.contacts import (
    CONTACT_CREATED,
    CONTACTS,
    apply_changes,
    change_event,
    new_contact_row,
    record_events,
    suppressed_emails,
)
from app.services.contacts.fields import ContactData

SOURCE = "segment"
# Less than PostgreSQL's deadlock detector's second: the writer must never be the one aborted.
LOCK_WAIT_MS = 200


@dataclass
class Person:
    """What one message says about someone: their data, or only a linked contact's id."""

    data: ContactData
    linked: int | None = None  # the contact of the message's anonymousId, if linked
    anonymous_id: str | None = None  # so a later message of the call naming only it finds it
    language: str | None = None  # context.locale: the contact's language if it has none


@dataclass
class _New:
    row: dict[str, Any]
    said: list[ContactData] = field(default_factory=list)
    id: int | None = None


def upsert_people(session: Session, people: Sequence[Person], now: datetime) -> list[int | None]:
    """The contact id of each person (None for someone nobody can be found or created by)."""
    known = _Known.load(session, people)
    erased = suppressed_emails(session, {p.data.email for p in people if p.data.email})
    events: list[dict[str, Any]] = []
    targets: list[Contact | _New | None] = []
    rekeyed: set[int | None] = set()
    # The new contacts are inserted before the known ones are updated: an UPDATE of an email
    # or external id locks its row against the event writer's foreign-key checks, and waiting
    # on the writer's own INSERT of a contact while holding that lock was a deadlock.
    with session.no_autoflush:
        for person in people:
            data = person.data
            target = known.find(data, person.linked)
            if target is None and data.external_id is None and data.email is None:
                target = known.by_anonymous.get(person.anonymous_id or "")
            if data.email is not None and known.email_owner(data.email) not in (None, target):
                data.fields.pop("email")  # someone else's address: not moved, not merged
            if target is None and (data.external_id or data.email):
                target = known.add(_New(new_contact_row(now, external_id=data.external_id)))
            if person.language and "language" not in data.fields and _language(target) is None:
                data.fields["language"] = person.language
            if isinstance(target, _New):
                _merge(target, data, suppressed=data.email in erased)
                known.remember(target)
            elif target is not None:
                if _changes_a_key(target, data):
                    rekeyed.add(target.id)
                suppressed = data.email in erased
                _, changes, _ = apply_changes(
                    target, data, now=now, source=SOURCE, suppressed=suppressed
                )
                events += changes
                known.remember(target)
            if target is not None and person.anonymous_id:
                known.by_anonymous[person.anonymous_id] = target
            targets.append(target)
        created = _insert(session, known.new, now)
    events += [change_event(cid, CONTACT_CREATED, {}, now) for cid in created]
    if is_postgres(session):
        _lock_rekeyed(session, {cid for cid in rekeyed if cid is not None})
    session.flush()
    record_events(session, events)
    return [t.id if t is not None else None for t in targets]


class _Known:
    def __init__(self) -> None:
        self.by_external: dict[str, Contact | _New] = {}
        self.by_email: dict[str, Contact | _New] = {}
        self.by_id: dict[int, Contact] = {}
        self.by_anonymous: dict[str, Contact | _New] = {}  # linked by earlier messages
        self.new: list[_New] = []

    @classmethod
    def load(cls, session: Session, people: Sequence[Person]) -> _Known:
        known = cls()
        externals = {p.data.external_id for p in people if p.data.external_id}
        emails = {p.data.email for p in people if p.data.email}
        ids = {p.linked for p in people if p.linked is not None}
        known._load(session, col(Contact.external_id), externals)
        # Only the emails and ids the first query did not bring (most people send both keys).
        known._load(session, col(Contact.email), emails - known.by_email.keys())
        known._load(session, col(Contact.id), ids - known.by_id.keys())
        return known

    def _load(self, session: Session, column: Any, values: set[Any]) -> None:
        if values:
            for contact in session.scalars(select(Contact).where(among(session, column, values))):
                self.remember(contact)

    def remember(self, target: Contact | _New) -> None:
        external, email = _keys(target)
        if external:
            self.by_external[external] = target
        if email:
            self.by_email[email] = target
        if isinstance(target, Contact) and target.id is not None:
            self.by_id[target.id] = target

    def add(self, new: _New) -> _New:
        self.new.append(new)
        return new

    def email_owner(self, email: str) -> Contact | _New | None:
        return self.by_email.get(email)

    def find(self, data: ContactData, linked: int | None) -> Contact | _New | None:
        if data.external_id:
            target = self.by_external.get(data.external_id)
            if target is not None:
                return target
        if data.email:
            owner = self.by_email.get(data.email)
            owner_external = _keys(owner)[0] if owner is not None else None
            if owner is not None and owner_external in (None, data.external_id):
                return owner  # known by this email, and by no other userId
            if owner is not None and data.external_id is None:
                return owner
        if data.external_id is None and data.email is None and linked is not None:
            return self.by_id.get(linked)
        return None


def _changes_a_key(contact: Contact, data: ContactData) -> bool:
    if data.external_id is not None and contact.external_id != data.external_id:
        return True
    return "email" in data.fields and contact.email != data.fields["email"]


def _lock_rekeyed(session: Session, ids: set[int]) -> None:
    """Locks, at once or not at all, the contacts whose email or external id changes.

    Such an UPDATE locks its row against the foreign-key checks of the event writer, which
    meets contacts in its events' order; holding one while waiting for the writer is a
    deadlock that PostgreSQL settles by aborting the writer's whole group. So the rows are
    taken here with NOWAIT (a row the writer is using fails the call, which starts again),
    and later waits give up after LOCK_WAIT_MS, sooner than the deadlock detector's second.
    The INSERT of new contacts came first and may wait: both write new contacts in key order.
    """
    with session.no_autoflush:  # before the UPDATEs, which would take the locks one by one
        session.execute(text(f"SET LOCAL lock_timeout = '{LOCK_WAIT_MS}ms'"))
        if ids:
            query = (
                select(col(Contact.id))
                .where(among(session, col(Contact.id), ids))
                .order_by(col(Contact.id))
                .with_for_update(nowait=True)
            )
            session.execute(query).all()


def _language(target: Contact | _New | None) -> str | None:
    if isinstance(target, _New):
        return target.row["language"]
    return target.language if target is not None else ""  # nobody: nothing to set


def _keys(target: Contact | _New) -> tuple[str | None, str | None]:
    if isinstance(target, _New):
        return target.row["external_id"], target.row["email"]
    return target.external_id, target.email


def _merge(new: _New, data: ContactData, *, suppressed: bool) -> None:
    row = new.row
    if data.external_id and not row["external_id"]:
        row["external_id"] = data.external_id
    row.update(data.fields)
    attributes = dict(row["attributes"])
    for name, value in data.attributes.items():
        if value is None:
            attributes.pop(name, None)
        else:
            attributes[name] = value
    row["attributes"] = attributes
    for channel, change in data.consent.items():
        if change.granted and suppressed:
            continue  # erased on request: consent does not come back this way
        row[f"{channel}_consent"] = change.granted
        row[f"{channel}_consent_source"] = change.source[:200]
        row[f"{channel}_consent_at"] = change.at
    new.said.append(data)


def _insert(session: Session, new: list[_New], now: datetime) -> list[int]:
    """Inserts the new contacts; one created meanwhile by another request is updated instead."""
    if not new:
        return []
    insert = pg_insert if is_postgres(session) else sqlite_insert
    # No conflict target: a row taken under either unique key (email, external id) is skipped.
    statement = (
        insert(CONTACTS)
        .on_conflict_do_nothing()
        .returning(CONTACTS.c.id, CONTACTS.c.external_id, CONTACTS.c.email)
    )
    # In key order, so two calls creating some of the same people cannot deadlock (PostgreSQL).
    rows = sorted((n.row for n in new), key=lambda r: (r["external_id"] or "", r["email"] or ""))
    inserted = session.execute(statement, rows).all()
    by_keys = {(external, email): cid for cid, external, email in inserted}
    created = []
    for item in new:
        item.id = by_keys.get((item.row["external_id"], item.row["email"]))
        if item.id is not None:
            created.append(item.id)
            continue
        late = _find_late(session, item.row)
        if late is None:  # taken by a concurrent write under another key: retried later
            raise LateConflict()
        for data in item.said:
            _, changes, _ = apply_changes(late, data, now=now, source=SOURCE, suppressed=False)
            record_events(session, changes)
        item.id = late.id
    return created


def _find_late(session: Session, row: dict[str, Any]) -> Contact | None:
    for column, value in ((Contact.external_id, row["external_id"]), (Contact.email, row["email"])):
        if value is not None:
            found = session.scalars(select(Contact).where(col(column) == value)).first()
            if found is not None:
                return found
    return None


class LateConflict(Exception):
    """Two requests created the same person at once under different keys: try again."""
