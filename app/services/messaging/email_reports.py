"""What mail providers report about our emails: bounces, complaints, deliveries (DESIGN §12.4).

The same reports come from ``POST /api/v1/email-events`` (any provider, our format) and from
the providers' own webhooks (``webhook_formats/``). A report names the address (``email``)
or the message (``message_id``: the Message-ID header we wrote, ``<idempotency key@host>``,
``worker/delivery/compose.py``). A message id that is ours names its contact; when the report
also names an email that is no longer the contact's, it is about an old address and changes
nothing. A report Parcours cannot place (an address it does not know, another sender's
message id) is *ignored* and counted as such, not refused: providers report on every
message of an account, and a 404 would only make them retry.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Literal
from urllib.parse import unquote

from sqlalchemy import select, update
from sqlmodel import Session, SQLModel

from app.bulk import among
from app.services.contacts.contacts import contact_ids_by
from app.services.messaging import bounces

CONTACTS = SQLModel.metadata.tables["contacts"]
OUTBOX = SQLModel.metadata.tables["outbox"]
ReportType = Literal["bounce", "complaint", "delivered"]
KEY_LENGTH = 200  # outbox.idempotency_key


@dataclass(frozen=True)
class Report:
    type: ReportType
    email: str | None = None  # normalised (lower case)
    message_id: str | None = None
    reason: str = ""


@dataclass
class Tally:
    bounced: int = 0
    complained: int = 0
    delivered: int = 0
    unchanged: int = 0  # placed, but already so (a provider posting a report twice)
    ignored: int = 0  # not ours: an unknown address or message

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def outbox_key(message_id: str) -> str | None:
    """The idempotency key inside one of our Message-IDs, or None when it cannot be one."""
    value = message_id.strip().removeprefix("<").removesuffix(">")
    local, at, _host = value.rpartition("@")
    key = unquote(local) if at else ""
    if not key or len(key) > KEY_LENGTH or not key.isprintable():
        return None  # ours are printable; "%00" would reach PostgreSQL as a NUL and fail there
    return key


@dataclass(frozen=True)
class _Sent:
    outbox_id: int
    contact_id: int | None


def _sent_by_key(session: Session, reports: Sequence[Report]) -> dict[str, _Sent]:
    keys = {k for r in reports if r.message_id and (k := outbox_key(r.message_id))}
    if not keys:
        return {}
    rows = session.execute(
        select(OUTBOX.c.idempotency_key, OUTBOX.c.id, OUTBOX.c.contact_id).where(
            among(session, OUTBOX.c.idempotency_key, keys), OUTBOX.c.channel == "email"
        )
    )
    return {key: _Sent(oid, cid) for key, oid, cid in rows}


def apply_reports(
    session: Session, reports: Sequence[Report], now: datetime, *, source: str
) -> Tally:
    """Marks bounced and complained addresses, stamps delivered messages; the caller commits."""
    tally = Tally()
    sent = _sent_by_key(session, reports)
    by_email = contact_ids_by(session, CONTACTS.c.email, {r.email for r in reports if r.email})
    marks: dict[str, list[bounces.Mark]] = {"bounce": [], "complaint": []}
    delivered: dict[int, int | None] = {}  # outbox id -> contact id
    placed_delivered = 0
    for report in reports:
        found = sent.get(outbox_key(report.message_id) or "") if report.message_id else None
        if report.type == "delivered":
            if found is None:
                tally.ignored += 1
            else:
                delivered[found.outbox_id] = found.contact_id
                placed_delivered += 1
            continue
        contact_id = found.contact_id if found is not None else by_email.get(report.email)
        if contact_id is None:
            tally.ignored += 1
            continue
        reason = report.reason or _default_reason(report.type)
        marks[report.type].append(bounces.Mark(contact_id, reason, report.email))
    newly_bounced = bounces.mark(session, bounces.BOUNCED, marks["bounce"], now, source=source)
    newly_complained = bounces.complaints(session, marks["complaint"], now, source=source)
    tally.bounced, tally.complained = len(newly_bounced), len(newly_complained)
    tally.unchanged += len(marks["bounce"]) - tally.bounced
    tally.unchanged += len(marks["complaint"]) - tally.complained
    if delivered:
        stamped = session.execute(
            update(OUTBOX)
            .where(among(session, OUTBOX.c.id, set(delivered)), OUTBOX.c.delivered_at.is_(None))
            .values(delivered_at=now)
            .returning(OUTBOX.c.id)
        ).all()
        tally.delivered = len(stamped)
        tally.unchanged += placed_delivered - tally.delivered
        reached = {cid for cid in delivered.values() if cid is not None}
        bounces.delivery_results(session, hard=[], soft=[], delivered=reached, now=now)
    return tally


def _default_reason(kind: str) -> str:
    return "Reported as bounced" if kind == "bounce" else "Reported as spam"
