"""Whether mail reaches a contact's address: bounced, complained, soft bounces (DESIGN §12.4).

A contact's ``email_status`` is None (fine), ``bounced`` (the address refused mail for good:
nothing is sent to it again, transactional included) or ``complained`` (the person marked
an email as spam: marketing consent is withdrawn and no marketing email goes out; a
transactional one still does). The reason (the server's or provider's words) and the time
are kept beside it, and each new mark records an event — ``email_bounced`` or
``email_complained`` {reason, source} — that scenarios can trigger on. A mark made again
(a provider posting the same bounce twice) changes nothing and records nothing.

Soft bounces: a send given up on (its retries spent, or a "mailbox full") after a refusal
about the address adds one to ``email_soft_bounces``; a message delivered since sets it back
to 0; the ``SOFT_BOUNCE_LIMIT``-th in a row marks the address bounced. Counting whole sends,
not refusals, keeps greylisting and a server's bad hour (each retried into success) from
ever counting.

Everything is cleared when the contact's email changes (``contacts.apply_changes``) or a
marketer resets it (:func:`reset`). Writes are bulk statements; the caller commits.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlmodel import Session, SQLModel, col

from app.bulk import among, is_postgres
from app.models import Contact
from app.services.contacts.contacts import (
    apply_changes,
    change_event,
    get_contact,
    record_events,
)
from app.services.contacts.fields import ConsentChange, ContactData

CONTACTS = SQLModel.metadata.tables["contacts"]
BOUNCED, COMPLAINED = "bounced", "complained"
EMAIL_BOUNCED, EMAIL_COMPLAINED = "email_bounced", "email_complained"
SOFT_BOUNCE_LIMIT = 3
REASON_LENGTH = 500


@dataclass(frozen=True)
class Mark:
    """One contact to mark, with the words that explain it. ``address``: only while the
    contact still has this email (a late refusal of an old address marks nobody)."""

    contact_id: int
    reason: str
    address: str | None = None


def _locked(session: Session, ids: Iterable[int]) -> dict[int, Any]:
    """The contacts' rows, locked on PostgreSQL in id order (as the engine locks them, so
    the two never wait on each other in a circle)."""
    query = (
        select(CONTACTS.c.id, CONTACTS.c.email, CONTACTS.c.email_status)
        .where(among(session, CONTACTS.c.id, set(ids)))
        .order_by(CONTACTS.c.id)
    )
    if is_postgres(session):
        query = query.with_for_update()
    return {row.id: row for row in session.execute(query)}


def _still_theirs(mark: Mark, row: Any) -> bool:
    return mark.address is None or (row.email or "").lower() == mark.address.lower()


def _clip(reason: str) -> str:
    return " ".join(str(reason).split())[:REASON_LENGTH]


def mark(
    session: Session, status: str, marks: Sequence[Mark], now: datetime, *, source: str
) -> list[int]:
    """Marks the contacts ``bounced`` or ``complained``; returns those newly marked.

    A bounced address stays bounced when a complaint comes in (it takes no mail at all);
    a complained one becomes bounced when it bounces."""
    if not marks:
        return []
    rows = _locked(session, (m.contact_id for m in marks))
    chosen: dict[int, Mark] = {}
    for item in marks:
        row = rows.get(item.contact_id)
        if row is None or not _still_theirs(item, row) or row.email_status in (status, BOUNCED):
            continue
        chosen.setdefault(item.contact_id, item)
    if not chosen:
        return []
    session.execute(
        update(CONTACTS)
        .where(CONTACTS.c.id == bindparam("b_id"))
        .values(
            email_status=status,
            email_status_reason=bindparam("b_reason"),
            email_status_at=now,
            email_soft_bounces=0,
            updated_at=now,
        ),
        [{"b_id": cid, "b_reason": _clip(m.reason)} for cid, m in chosen.items()],
    )
    name = EMAIL_BOUNCED if status == BOUNCED else EMAIL_COMPLAINED
    record_events(
        session,
        [
            change_event(cid, name, {"reason": _clip(m.reason), "source": source}, now)
            for cid, m in chosen.items()
        ],
    )
    return list(chosen)


def complaints(session: Session, marks: Sequence[Mark], now: datetime, *, source: str) -> list[int]:
    """Marks the contacts ``complained`` and withdraws their marketing consent the way any
    update does (``consent_changed`` recorded); returns those newly marked."""
    newly = mark(session, COMPLAINED, marks, now, source=source)
    rows = _locked(session, (m.contact_id for m in marks))
    ids = {
        m.contact_id for m in marks if m.contact_id in rows and _still_theirs(m, rows[m.contact_id])
    }
    if not ids:
        return newly
    withdraw = ContactData(
        consent={"email": ConsentChange(granted=False, source=f"spam complaint ({source})", at=now)}
    )
    found = session.scalars(
        select(Contact).where(among(session, col(Contact.id), ids), col(Contact.email_consent))
    ).all()
    events: list[dict[str, Any]] = []
    for contact in found:
        _changed, changes, touched = apply_changes(
            contact, withdraw, now=now, source=source, suppressed=False
        )
        if touched:
            session.add(contact)
        events.extend(changes)
    record_events(session, events)
    return newly


def delivery_results(
    session: Session,
    *,
    hard: Sequence[Mark],
    soft: Sequence[Mark],
    delivered: Iterable[int],
    now: datetime,
    source: str = "smtp",
) -> None:
    """What one write of the delivery worker's outcomes says about addresses: ``hard``
    refusals mark them bounced, ``soft`` ones are sends given up on (counted), ``delivered``
    contacts got a message through (their count starts again)."""
    delivered = set(delivered) - {m.contact_id for m in soft}
    # Whose soft count starts again: read without a lock first, as it is nearly always nobody.
    to_reset = (
        set(
            session.execute(
                select(CONTACTS.c.id).where(
                    among(session, CONTACTS.c.id, delivered), CONTACTS.c.email_soft_bounces > 0
                )
            ).scalars()
        )
        if delivered
        else set()
    )
    involved = to_reset | {m.contact_id for m in soft} | {m.contact_id for m in hard}
    if not involved:
        return
    # Every row this write changes, locked once and in id order (as the engine locks them).
    _locked(session, involved)
    if to_reset:
        session.execute(
            update(CONTACTS)
            .where(among(session, CONTACTS.c.id, to_reset), CONTACTS.c.email_soft_bounces > 0)
            .values(email_soft_bounces=0)
        )
    marks = list(hard) + _count_soft(session, soft, now)
    mark(session, BOUNCED, marks, now, source=source)


def _count_soft(session: Session, soft: Sequence[Mark], now: datetime) -> list[Mark]:
    """Adds the soft bounces; returns the marks of those that reached the limit."""
    if not soft:
        return []
    rows = _locked(session, (m.contact_id for m in soft))
    # One per contact per write: several sends given up on together are one bad spell.
    counted = list(
        {
            m.contact_id: m
            for m in soft
            if m.contact_id in rows and _still_theirs(m, rows[m.contact_id])
        }.values()
    )
    if not counted:
        return []
    session.execute(
        update(CONTACTS)
        .where(CONTACTS.c.id == bindparam("b_id"))
        .values(email_soft_bounces=CONTACTS.c.email_soft_bounces + 1, updated_at=now),
        [{"b_id": m.contact_id} for m in counted],
    )
    reached = set(
        session.execute(
            select(CONTACTS.c.id).where(
                among(session, CONTACTS.c.id, {m.contact_id for m in counted}),
                CONTACTS.c.email_soft_bounces >= SOFT_BOUNCE_LIMIT,
            )
        ).scalars()
    )
    last = {m.contact_id: m for m in counted}
    return [
        Mark(
            cid,
            f"{SOFT_BOUNCE_LIMIT} sends in a row could not be delivered; "
            f"the last: {last[cid].reason}",
        )
        for cid in sorted(reached)
    ]


def reset(session: Session, contact_id: int, now: datetime) -> Contact:
    """A marketer says the address works again: its status and soft bounces are cleared
    (marketing consent withdrawn by a complaint stays withdrawn: it is asked for anew)."""
    contact = get_contact(session, contact_id)
    if contact.email_status is not None or contact.email_soft_bounces:
        contact.email_status = None
        contact.email_status_reason = None
        contact.email_status_at = None
        contact.email_soft_bounces = 0
        contact.updated_at = now
        session.add(contact)
    return contact


def status_document(contact: Contact) -> dict[str, Any]:
    """The contact API's ``email_status``: None, or what and when."""
    if contact.email_status is None:
        return {"email_status": None, "email_soft_bounces": contact.email_soft_bounces}
    at = contact.email_status_at
    return {
        "email_status": {
            "status": contact.email_status,
            "reason": contact.email_status_reason,
            "at": at.isoformat() if at is not None else None,
        },
        "email_soft_bounces": contact.email_soft_bounces,
    }
