"""The built-in mailbox: what Parcours sent when no SMTP server (or SMS provider) is set.

Each email and SMS is kept exactly as the contact would have received it — the final HTML
with inlined CSS, tracked links and the unsubscribe footer — so the Mailbox page shows it
in a sandboxed frame. With SMTP configured, the page lists the sends and their status.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, insert
from sqlmodel import Session, SQLModel, col, select

from app.i18n import _
from app.models import Contact, MailboxMessage, OutboxMessage, OutboxStatus
from app.services.errors import NotFound

MAILBOX = SQLModel.metadata.tables["mailbox_messages"]
PAGE_SIZE = 50


def store(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Bulk insert, in the caller's transaction (the one that marks the sends done)."""
    if rows:
        session.execute(insert(MAILBOX), list(rows))


def mailbox_page(
    session: Session, *, channel: str | None = None, page: int = 1
) -> tuple[Sequence[MailboxMessage], int]:
    """One page of the mailbox, newest first, and the number of messages in all."""
    query = select(MailboxMessage)
    count = select(func.count()).select_from(MailboxMessage)
    if channel:
        query = query.where(col(MailboxMessage.channel) == channel)
        count = count.where(col(MailboxMessage.channel) == channel)
    total = int(session.exec(count).one())
    rows = session.exec(
        query.order_by(col(MailboxMessage.id).desc())
        .offset((max(page, 1) - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE)
    ).all()
    return rows, total


def get_mail(session: Session, mail_id: int) -> MailboxMessage:
    mail = session.get(MailboxMessage, mail_id)
    if mail is None:
        raise NotFound(_("This message is no longer in the mailbox."))
    return mail


@dataclass(frozen=True)
class SendCounts:
    pending: int = 0
    sent: int = 0
    failed: int = 0
    skipped: int = 0
    cancelled: int = 0


def send_counts(session: Session) -> SendCounts:
    rows = session.execute(
        select(col(OutboxMessage.status), func.count()).group_by(col(OutboxMessage.status))
    ).all()
    known = {s.value for s in OutboxStatus}
    return SendCounts(**{str(status): int(n) for status, n in rows if str(status) in known})


def sends_for_contact(
    session: Session, contact_id: int, *, limit: int = 50
) -> Sequence[OutboxMessage]:
    """A contact's sends, newest first, with the reason of any failure or skip — for the
    contact's page."""
    return session.exec(
        select(OutboxMessage)
        .where(col(OutboxMessage.contact_id) == contact_id)
        .order_by(col(OutboxMessage.id).desc())
        .limit(limit)
    ).all()


def send_outcomes_by_block(session: Session, scenario_id: int) -> dict[str, dict[str, int]]:
    """{block id: {status: count}} of a scenario's sends — for the canvas."""
    result: dict[str, dict[str, int]] = {}
    for node_id, status, n in session.execute(
        select(col(OutboxMessage.node_id), col(OutboxMessage.status), func.count())
        .where(col(OutboxMessage.scenario_id) == scenario_id)
        .group_by(col(OutboxMessage.node_id), col(OutboxMessage.status))
    ):
        result.setdefault(node_id or "", {})[str(status)] = int(n)
    return result


@dataclass(frozen=True)
class Problem:
    send: OutboxMessage
    contact_email: str | None


def recent_problems(session: Session, *, limit: int = 8) -> list[Problem]:
    """The latest sends that failed or were skipped, with the reason — for the Mailbox page."""
    rows = session.exec(
        select(OutboxMessage, Contact.email)
        .join(Contact, col(Contact.id) == col(OutboxMessage.contact_id), isouter=True)
        .where(col(OutboxMessage.status).in_([OutboxStatus.failed, OutboxStatus.skipped]))
        .order_by(col(OutboxMessage.id).desc())
        .limit(limit)
    ).all()
    return [Problem(send, email) for send, email in rows]
