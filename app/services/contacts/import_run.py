"""Running a CSV import: chunks of rows upserted in bulk, one transaction per chunk.

Per chunk: one query loads the existing contacts (by email, then by your id), new contacts are
inserted in one statement, changed ones are updated, and the change events (contact_created,
attribute_changed, score_changed, list_added) are written in one statement — as for any other
change, so scenarios react to imported contacts too.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, insert, select
from sqlmodel import Session, col

from app.i18n import N_, _, speaking
from app.models import Contact, ContactImport, ImportStatus
from app.services.contacts.contacts import (
    CONTACT_CREATED,
    CONTACTS,
    apply_changes,
    change_event,
    new_contact_row,
    record_events,
    suppressed_emails,
)
from app.services.contacts.import_ import (
    CHUNK,
    RowResult,
    add_rejections,
    get_import,
    parse_row,
    rows,
)
from app.services.contacts.lists import add_members, lists_by_keys

ERASED = N_("erased on request (GDPR): this email is not imported again")


def import_chunk(
    session: Session, upload: ContactImport, results: list[RowResult], now: datetime
) -> tuple[int, int, int]:
    """Upserts one chunk of parsed rows; returns (created, updated, rejected)."""
    rejected = [r for r in results if r.data is None]
    good = [r for r in results if r.data is not None]
    erased = suppressed_emails(session, {r.data.email for r in good if r.data and r.data.email})
    for r in good:
        if r.data is not None and r.data.email in erased:
            r.data, r.reason = None, _(ERASED)
            rejected.append(r)
    good = [r for r in good if r.data is not None]

    # Later rows of the same person win, as if the file were read top to bottom.
    by_key: dict[tuple[str, str], RowResult] = {}
    for r in good:
        assert r.data is not None
        key = ("email", r.data.email) if r.data.email else ("external_id", r.data.external_id or "")
        if key in by_key:
            earlier = by_key[key].data
            assert earlier is not None
            earlier.fields.update(r.data.fields)
            earlier.attributes.update(r.data.attributes)
            earlier.consent.update(r.data.consent)
            earlier.external_id = r.data.external_id or earlier.external_id
        else:
            by_key[key] = r
    emails = [k[1] for k in by_key if k[0] == "email"]
    externals = sorted(
        {r.data.external_id for r in by_key.values() if r.data and r.data.external_id}
    )
    existing: dict[tuple[str, str], Contact] = {}
    if emails:
        found = session.scalars(select(Contact).where(col(Contact.email).in_(emails)))
        existing.update({("email", c.email or ""): c for c in found})
    if externals:
        found = session.scalars(select(Contact).where(col(Contact.external_id).in_(externals)))
        existing.update({("external_id", c.external_id or ""): c for c in found})

    source = "import"
    events: list[dict[str, Any]] = []
    new_rows: list[dict[str, Any]] = []
    ids: list[int] = []
    new_externals: set[str] = set()
    updated = 0
    for key, r in by_key.items():
        data = r.data
        assert data is not None
        contact = existing.get(key)
        if contact is None and data.external_id:  # known by your id, new email
            contact = existing.get(("external_id", data.external_id))
        if contact is None:
            if data.external_id and data.external_id in new_externals:
                words = {"id": data.external_id}
                r.data, r.reason = None, _("your id %(id)s is on an earlier row too") % words
                rejected.append(r)
                continue
            new_externals.add(data.external_id or "")
            row = new_contact_row(now, external_id=data.external_id)
            row.update(data.fields)
            row["attributes"] = {k: v for k, v in data.attributes.items() if v is not None}
            for channel, change in data.consent.items():
                row[f"{channel}_consent"] = change.granted
                row[f"{channel}_consent_source"] = change.source[:200]
                row[f"{channel}_consent_at"] = change.at
            new_rows.append(row)
            continue
        assert contact.id is not None
        ids.append(contact.id)
        _changed, change_events, touched = apply_changes(
            contact, data, now=now, source=source, suppressed=False
        )
        events += change_events
        updated += int(touched)
    created_ids: list[int] = []
    if new_rows:
        statement = insert(CONTACTS).returning(CONTACTS.c.id)
        created_ids = list(session.execute(statement, new_rows).scalars())
        events += [change_event(cid, CONTACT_CREATED, {}, now) for cid in created_ids]
    session.flush()
    record_events(session, events)
    if upload.list_key:
        target = lists_by_keys(session, [upload.list_key])[upload.list_key]
        add_members(session, [target], ids + created_ids, now=now, source=source)
    assert upload.id is not None
    add_rejections(session, upload.id, rejected)
    return len(created_ids), updated, len(rejected)


def _numbered(upload: ContactImport) -> Iterator[tuple[int, list[str]]]:
    reader = rows(upload.content, upload.delimiter)
    next(reader, None)
    number = 1
    for cells in reader:
        number += 1
        if any(cell.strip() for cell in cells):
            yield number, cells


def run_import(
    engine: Engine, import_id: int, now: Callable[[], datetime], *, budget_seconds: float
) -> bool:
    """Imports chunks until done or out of time; True when the import is finished."""
    deadline = time.monotonic() + budget_seconds
    with Session(engine, expire_on_commit=False) as session:
        upload = get_import(session, import_id)
        if upload.status in (ImportStatus.done, ImportStatus.failed, ImportStatus.mapping):
            return True
        if upload.status == ImportStatus.queued:
            upload.status, upload.started_at = ImportStatus.running, now()
            session.commit()
        todo = _numbered(upload)
        for _ in range(upload.processed_rows):
            next(todo, None)
        while True:
            chunk = [c for _, c in zip(range(CHUNK), todo, strict=False)]
            if not chunk:
                upload.status, upload.finished_at = ImportStatus.done, now()
                session.commit()
                return True
            moment = now()
            start = upload.processed_rows
            with speaking(upload.language):  # the report's reasons, for whoever uploaded it
                parsed = [parse_row(upload, number, cells, moment) for number, cells in chunk]
                created, updated, rejected = import_chunk(session, upload, parsed, moment)
            upload.processed_rows = start + len(chunk)
            upload.created_count += created
            upload.updated_count += updated
            upload.rejected_count += rejected
            session.commit()
            for loaded in list(session.identity_map.values()):
                if loaded is not upload:
                    session.expunge(loaded)  # keep memory flat over a million rows
            if time.monotonic() > deadline:
                return False


def fail_import(engine: Engine, import_id: int, message: str, now: datetime) -> None:
    """Marks the import failed; ``message`` is an English msgid (``N_``), stored in the
    uploader's language."""
    with Session(engine) as session:
        upload = get_import(session, import_id, with_file=False)
        with speaking(upload.language):
            upload.error = _(message)
        upload.status, upload.finished_at = ImportStatus.failed, now
        session.commit()
