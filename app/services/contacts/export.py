"""Exporting a list or a segment to CSV, streamed in keyset chunks (flat memory at 1M rows).

Columns: the built-in fields, consent, then one column per custom attribute found among the
exported contacts' attributes (collected in a first pass over the same chunks).
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import datetime
from typing import IO, Any

from sqlalchemy import select
from sqlmodel import Session, col

from app.graph import Condition
from app.models import Contact
from app.services.contacts.condition_sql import ConditionSql
from app.services.contacts.contacts import json_value
from app.services.contacts.lists import MEMBERSHIPS

CHUNK = 1000
BUILTIN_COLUMNS = [
    "id",
    "email",
    "external_id",
    "phone",
    "first_name",
    "last_name",
    "birthday",
    "timezone",
    "language",
    "score",
    "email_consent",
    "sms_consent",
    "created_at",
]


def _chunks(
    session: Session, *, list_id: int | None, condition: Condition | None, now: datetime
) -> Iterator[list[Contact]]:
    before: int | None = None
    while True:
        query = select(Contact)
        if list_id is not None:
            query = query.join(MEMBERSHIPS, MEMBERSHIPS.c.contact_id == col(Contact.id)).where(
                MEMBERSHIPS.c.list_id == list_id
            )
        if condition is not None:
            compiler = ConditionSql(session.get_bind().dialect.name, now)
            query = query.where(compiler.contact_filter(condition))
        if before is not None:
            query = query.where(col(Contact.id) < before)
        rows = list(session.scalars(query.order_by(col(Contact.id).desc()).limit(CHUNK)))
        if not rows:
            return
        yield rows
        session.expunge_all()
        before = rows[-1].id


def write_csv(
    session: Session,
    out: IO[str],
    *,
    list_id: int | None,
    condition: Condition | None,
    now: datetime,
) -> int:
    """Writes the CSV to ``out`` chunk by chunk; returns the number of contacts written.

    The caller streams ``out`` afterwards (a spooled temporary file), so no database
    connection is held while a slow client downloads."""
    custom: set[str] = set()
    for rows in _chunks(session, list_id=list_id, condition=condition, now=now):
        for contact in rows:
            custom.update((contact.attributes or {}).keys())
    extra = sorted(custom)
    writer = csv.writer(out)
    writer.writerow(BUILTIN_COLUMNS + extra)
    written = 0
    for rows in _chunks(session, list_id=list_id, condition=condition, now=now):
        for contact in rows:
            attributes = contact.attributes or {}
            writer.writerow(
                [_cell(getattr(contact, name)) for name in BUILTIN_COLUMNS]
                + [_cell(attributes.get(name)) for name in extra]
            )
        written += len(rows)
    return written


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = str(json_value(value))
    # A cell starting with = + - @ is a formula to spreadsheets: keep it text.
    return "'" + text if text[:1] in ("=", "+", "-", "@") and not _is_number(text) else text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
