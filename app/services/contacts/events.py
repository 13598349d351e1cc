"""Tracked events: validated whole, stored in bulk, de-duplicated by their id.

A batch is all-or-nothing: every item is checked before anything is written, and the answer
names the index and the reason of each bad item. Writing is one statement per table: contacts
that do not exist yet are created by email (or external id) with ``INSERT … ON CONFLICT DO
NOTHING``, and events with ``INSERT … ON CONFLICT (uid) DO NOTHING`` — so the same event id
posted ten times, even at the same moment from ten connections, is stored once.
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session

from app.bulk import insert_missing_rows
from app.inputs import Int32
from app.services.contacts.contacts import (
    CONTACT_CREATED,
    CONTACTS,
    EVENTS,
    RESERVED_EVENTS,
    change_event,
    contact_ids_by,
    new_contact_row,
)
from app.services.contacts.fields import FieldProblem, normalize_email, normalize_external_id
from app.services.errors import Invalid

# Times a clock can plausibly give: a little ahead of ours (a client's clock runs fast), and
# nothing before the web shops that would send them (a year 1 or 1970 is a bug, not history).
MAX_FUTURE = timedelta(days=1)
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)


class EventContact(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str | None = None
    external_id: str | None = None

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        return _field(normalize_email, value)

    @field_validator("external_id")
    @classmethod
    def _external_id(cls, value: str | None) -> str | None:
        return _field(normalize_external_id, value)


class EventIn(BaseModel):
    """One tracked event: what the contact did, when, with free-form properties."""

    model_config = ConfigDict(extra="forbid")

    id: str | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        description="Your id for this event: the same id is stored once, however often sent.",
    )
    name: str = Field(min_length=1, max_length=100, examples=["purchase"])
    contact: EventContact | None = Field(
        default=None, description="Who did it; an unknown email creates the contact."
    )
    contact_id: Int32 | None = Field(default=None, description="Or Parcours's contact id.")
    properties: dict[str, Any] = Field(default_factory=dict)
    occurred_at: datetime | None = Field(
        default=None, description="When it happened (default: now); without offset means UTC."
    )

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        name = value.strip()
        if not name:
            raise ValueError("the event needs a name, e.g. purchase")
        if name.lower() in RESERVED_EVENTS:
            raise ValueError(
                "this name is recorded by Parcours itself (contact changes, email opens, "
                "clicks and unsubscribes); choose another name for your event"
            )
        return name

    def who(self) -> tuple[str, str | int] | None:
        if self.contact_id is not None:
            return ("id", self.contact_id)
        if self.contact is not None and self.contact.email:
            return ("email", self.contact.email)
        if self.contact is not None and self.contact.external_id:
            return ("external_id", self.contact.external_id)
        return None


class EventBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    events: list[EventIn]


def _field(normalize: Any, value: Any) -> Any:
    try:
        return normalize(value)
    except FieldProblem as problem:
        raise ValueError(str(problem)) from None


@dataclass(frozen=True)
class ItemError:
    index: int | None
    field: str | None
    reason: str

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"field": self.field, "reason": self.reason}
        if self.index is not None:
            data = {"index": self.index, **data}
        return data


class EventsRefused(Invalid):
    """422 with each bad item: ``{"message", "errors": [{"index"?, "field", "reason"}]}``."""

    def __init__(self, message: str, errors: Sequence[ItemError]) -> None:
        super().__init__(message)
        self.errors = list(errors)

    def detail(self) -> object:
        return {"message": self.message, "errors": [e.as_json() for e in self.errors]}


SINGLE = TypeAdapter(EventIn)
BATCH = TypeAdapter(EventBatch)
# A number too large for a double (1e999, or 309 digits) is read as infinity, which
# PostgreSQL's JSON cannot hold (a 500 at the insert) and SQLite's JSON functions cannot read.
# Looked for in the parsed properties: a byte-level hint cost more than the walk, and ids in
# hex ("4e512…") set it off anyway.
INFINITE = "holds a number too large to store; send a finite number"


def _infinite(index: int | None, event: EventIn) -> list[ItemError]:
    if event.properties and not _finite(event.properties):
        return [ItemError(index, "properties", INFINITE)]
    return []


def _finite(node: Any) -> bool:
    values = node.values() if isinstance(node, dict) else node
    for value in values:
        kind = type(value)
        if kind is float:
            if not math.isfinite(value):
                return False
        elif (kind is dict or kind is list) and not _finite(value):
            return False
    return True


def parse_event(body: bytes, now: datetime) -> EventIn:
    try:
        event = SINGLE.validate_json(body)
    except ValidationError as exc:
        errors = _errors(exc, batch=False)
        raise EventsRefused("The event was refused; nothing was stored.", errors) from None
    problems = [ItemError(None, e.field, e.reason) for e in item_problems(0, event, now)]
    problems += _infinite(None, event)
    if problems:
        raise EventsRefused("The event was refused; nothing was stored.", problems)
    return event


def parse_batch(body: bytes, now: datetime) -> list[EventIn]:
    try:
        events = BATCH.validate_json(body).events
    except ValidationError as exc:
        errors = _errors(exc, batch=True)
        if any(e.index is not None for e in errors):
            errors = _item_by_item(body, now) or errors
        raise EventsRefused(_refusal(errors), errors) from None
    if not events:
        raise EventsRefused("The batch is empty: send at least one event.", [])
    problems = batch_problems(events, now)
    infinite = [p for i, event in enumerate(events) for p in _infinite(i, event)]
    if infinite:
        problems = sorted(problems + infinite, key=lambda p: p.index or 0)
    if problems:
        raise EventsRefused(_refusal(problems), problems)
    return events


def batch_problems(events: Sequence[EventIn], now: datetime) -> list[ItemError]:
    """Every item's problems, and ids given twice with different content.

    The same id with the same content is a retried event and is stored once; with different
    content one of the two would be silently dropped, so the batch is refused instead.
    """
    problems = [p for i, event in enumerate(events) for p in item_problems(i, event, now)]
    first: dict[str, int] = {}
    for index, event in enumerate(events):
        if event.id is None:
            continue
        seen = first.setdefault(event.id, index)
        if seen != index and events[seen] != event:
            reason = (
                f"this id is already used by event {seen} of the batch, with different "
                "content: give each event its own id"
            )
            problems.append(ItemError(index, "id", reason))
    return sorted(problems, key=lambda p: p.index or 0)


def _refusal(errors: Sequence[ItemError]) -> str:
    bad = len({e.index for e in errors if e.index is not None})
    if not bad:
        return "The batch was refused; nothing was stored."
    events, verb = ("events", "are") if bad != 1 else ("event", "is")
    return f"{bad} {events} of the batch {verb} invalid; nothing was stored."


def _item_by_item(body: bytes, now: datetime) -> list[ItemError]:
    """Every problem of every item (the fast path stops short of the checks that need a valid
    item); only run when the batch is being refused anyway."""
    items = json.loads(body).get("events")
    errors: list[ItemError] = []
    for index, item in enumerate(items):
        try:
            event = EventIn.model_validate(item)
        except ValidationError as exc:
            errors += [ItemError(index, e.field, e.reason) for e in _errors(exc, batch=False)]
            continue
        errors += item_problems(index, event, now)
    return errors


def item_problems(index: int, event: EventIn, now: datetime) -> list[ItemError]:
    """What a well-formed event can still get wrong, without looking at the database."""
    problems = []
    if event.who() is None:
        reason = "say who did it: contact.email, contact.external_id or contact_id"
        problems.append(ItemError(index, "contact", reason))
    if event.occurred_at is not None:
        occurred = event.occurred_at
        occurred = occurred if occurred.tzinfo else occurred.replace(tzinfo=UTC)
        if occurred > now + MAX_FUTURE:
            reason = (
                "occurred_at is more than a day in the future; "
                "give times in UTC or with an offset, e.g. 2025-03-01T09:30:00+01:00"
            )
            problems.append(ItemError(index, "occurred_at", reason))
        elif occurred < EARLIEST:
            reason = "occurred_at is before the year 2000; check the date (and its time zone)"
            problems.append(ItemError(index, "occurred_at", reason))
    return problems


_PLAIN = {
    "missing": "this field is required",
    "extra_forbidden": "this field is not part of an event",
    "list_type": "must be a list",
    "model_type": 'must be an object, like {"name": "purchase", ...}',
    "model_attributes_type": "must be an object",
    "dict_type": "must be an object",
    "string_type": "must be text",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "string_too_long": "is longer than {max_length} characters",
    "string_too_short": "can't be empty",
    "datetime_type": "must be a time like 2025-03-01T09:30:00Z",
    "datetime_parsing": "must be a time like 2025-03-01T09:30:00Z",
    "datetime_from_date_parsing": "must be a time like 2025-03-01T09:30:00Z",
}


def _plain_reason(error_type: str, ctx: dict[str, Any], fallback: str) -> str:
    # Never str.format: the fallback is pydantic's message, which may quote the client's input
    # ("a}b" is not a valid email), and braces in it would break the formatting.
    template = _PLAIN.get(error_type)
    if template is None:
        return fallback
    return template.replace("{max_length}", str(ctx.get("max_length", "")))


def _errors(exc: ValidationError, *, batch: bool) -> list[ItemError]:
    result = []
    for error in exc.errors(include_url=False, include_input=False):
        loc = list(error["loc"])
        reason = str(error["msg"]).removeprefix("Value error, ")
        if error["type"] == "json_invalid":
            reason = f"the body is not valid JSON ({error.get('ctx', {}).get('error', reason)})"
            result.append(ItemError(None, None, reason))
            continue
        reason = _plain_reason(error["type"], error.get("ctx") or {}, reason)
        index = None
        if batch and len(loc) >= 2 and loc[0] == "events" and isinstance(loc[1], int):
            index, loc = loc[1], loc[2:]
        field = ".".join(str(part) for part in loc) or None
        result.append(ItemError(index, field, reason))
    return result


@dataclass(frozen=True)
class Ingested:
    ids: list[str]  # the stored id of each event, in order (given or generated)
    contacts_created: int


def ingest(
    session: Session, events: Sequence[EventIn], now: datetime, *, batch: bool = True
) -> Ingested:
    """Stores the events (all or none) and creates the contacts they name that are unknown."""
    check_contacts(session, events, batch=batch)
    return write_events(session, events, now)


def check_contacts(session: Session, events: Sequence[EventIn], *, batch: bool) -> None:
    """Refuses the events (EventsRefused) if one names a contact id that does not exist."""
    problems = _unknown_contact_ids(session, events)
    if problems and batch:
        raise EventsRefused(_refusal(problems), problems)
    if problems:
        single = [ItemError(None, e.field, e.reason) for e in problems]
        raise EventsRefused("The event was refused; nothing was stored.", single)


def write_events(session: Session, events: Sequence[EventIn], now: datetime) -> Ingested:
    """Writes checked events: missing contacts first, then the events, one statement each."""
    whos = [event.who() for event in events]
    contact_ids, created = _resolve_contacts(session, events, whos, now)
    rows = [change_event(cid, CONTACT_CREATED, {}, now) for cid in created]
    ids = []
    for event, who in zip(events, whos, strict=True):
        assert who is not None
        uid = event.id or uuid.uuid4().hex
        ids.append(uid)
        occurred = event.occurred_at or now
        rows.append(
            {
                "uid": uid,
                "contact_id": contact_ids[who],
                "name": event.name,
                "properties": event.properties,
                "occurred_at": occurred if occurred.tzinfo else occurred.replace(tzinfo=UTC),
                "received_at": now,
                "processed_at": None,
            }
        )
    insert_missing_rows(session, EVENTS, rows, unique=["uid"])
    return Ingested(ids=ids, contacts_created=len(created))


def _unknown_contact_ids(session: Session, events: Sequence[EventIn]) -> list[ItemError]:
    wanted = {e.contact_id for e in events if e.contact_id is not None}
    if not wanted:
        return []
    known = set(contact_ids_by(session, CONTACTS.c.id, wanted))
    return [
        ItemError(index, "contact_id", f"there is no contact with id {event.contact_id}")
        for index, event in enumerate(events)
        if event.contact_id is not None and event.contact_id not in known
    ]


def _resolve_contacts(
    session: Session,
    events: Sequence[EventIn],
    whos: Sequence[tuple[str, Any] | None],
    now: datetime,
) -> tuple[dict[tuple[str, Any], int], list[int]]:
    """(kind, value) -> contact id for every event; and the ids of contacts created now."""
    resolved: dict[tuple[str, Any], int] = {}
    created: list[int] = []
    emails, externals = set(), set()
    for who in whos:
        if who is None:
            continue
        if who[0] == "id":
            resolved[who] = int(who[1])
        elif who[0] == "email":
            emails.add(who[1])
        else:
            externals.add(who[1])
    # external ids of events that also name an email: a new contact gets both
    external_of: dict[str, str] = {}
    for event in events:
        if event.contact and event.contact.email and event.contact.external_id:
            external_of.setdefault(event.contact.email, event.contact.external_id)
    for kind, column, values in (
        ("email", CONTACTS.c.email, emails),
        ("external_id", CONTACTS.c.external_id, externals),
    ):
        if not values:
            continue
        found = contact_ids_by(session, column, values)
        missing = sorted(v for v in values if v not in found)
        if missing:
            new_rows = [new_contact_row(now, **{kind: v}) for v in missing]
            if kind == "email":
                taken = set(contact_ids_by(session, CONTACTS.c.external_id, external_of.values()))
                for row in new_rows:
                    ext = external_of.get(row["email"])
                    if ext is not None and ext not in taken:
                        row["external_id"] = ext
                        taken.add(ext)  # two new emails naming one external id: the first
            new = insert_contacts(session, new_rows, column)
            created.extend(new.values())
            found.update(new)
            still = [v for v in missing if v not in found]
            if still:  # created by a concurrent request between our read and our insert
                found.update(contact_ids_by(session, column, still))
        resolved.update({(kind, value): cid for value, cid in found.items()})
    return resolved, created


def _insert_statement(session: Session, table: Any, conflict_column: str) -> Any:
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    return insert(table).on_conflict_do_nothing(index_elements=[conflict_column])


def insert_contacts(session: Session, rows: list[dict[str, Any]], column: Any) -> dict[Any, int]:
    """Inserts the rows whose ``column`` value is free: that value -> new id, for each one."""
    statement = _insert_statement(session, CONTACTS, column.name).returning(column, CONTACTS.c.id)
    return {value: cid for value, cid in session.execute(statement, rows)}
