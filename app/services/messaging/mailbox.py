"""The built-in mailbox: what Parcours sent when no SMTP server (or SMS provider) is set.

Each email and SMS is kept exactly as the contact would have received it — the final HTML
with inlined CSS, tracked links and the unsubscribe footer — so the Mailbox page shows it
in a sandboxed frame. With SMTP configured, the page lists the sends and their status.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import String, func, insert, or_
from sqlmodel import Session, SQLModel, col, select

from app.graph.coercion import fold
from app.i18n import _, gettext
from app.models import (
    Contact,
    Enrollment,
    MailboxMessage,
    MessageTemplate,
    OutboxMessage,
    OutboxStatus,
    ScenarioVersion,
)
from app.services.errors import NotFound
from app.services.messaging import not_sent

MAILBOX = SQLModel.metadata.tables["mailbox_messages"]
PAGE_SIZE = 50


def store(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Bulk insert, in the caller's transaction (the one that marks the sends done)."""
    if rows:
        session.execute(insert(MAILBOX), list(rows))


@dataclass(frozen=True)
class MailboxPage:
    mails: Sequence[MailboxMessage]
    total: int  # messages matching the filter, on every page
    page: int  # the page shown, between 1 and pages
    pages: int


def mailbox_page(
    session: Session, *, channel: str | None = None, search: str = "", page: int = 1
) -> MailboxPage:
    """One page of the mailbox, newest first: a channel and words found in the recipient or
    the subject narrow it; a page past the last shows the last."""
    where = []
    if channel:
        where.append(col(MailboxMessage.channel) == channel)
    if search.strip():
        # parcours_fold: lower() that folds accents' case too (SQLite's folds ASCII only).
        words = fold(search.strip())
        where.append(
            or_(
                *(
                    func.parcours_fold(field, type_=String).contains(words, autoescape=True)
                    for field in (col(MailboxMessage.to_address), col(MailboxMessage.subject))
                )
            )
        )
    total = int(session.exec(select(func.count()).select_from(MailboxMessage).where(*where)).one())
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(page, 1), pages)
    rows = session.exec(
        select(MailboxMessage)
        .where(*where)
        .order_by(col(MailboxMessage.id).desc())
        .offset((page - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE)
    ).all()
    return MailboxPage(rows, total, page, pages)


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
    not_sent: int = 0  # ``not_sent``'s definition: skipped by the engine or at delivery


def send_counts(session: Session) -> SendCounts:
    rows = session.execute(
        select(col(OutboxMessage.status), func.count())
        .where(col(OutboxMessage.status).in_(("pending", "sent", "failed")))
        .group_by(col(OutboxMessage.status))
    ).all()
    counts = {str(status): int(n) for status, n in rows}
    return SendCounts(**counts, not_sent=not_sent.total(session))


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
    """A send that did not go out: failed for good, or not sent (see ``not_sent``)."""

    contact_email: str | None
    channel: str
    message: str | None  # the message's name, when it was one
    status: str  # "failed" or "skipped" (not sent)
    reason: str  # in the reader's words
    at: datetime


def recent_problems(session: Session, *, limit: int = 8) -> list[Problem]:
    """The latest sends that failed or were not sent, with the reason — for the Mailbox page.

    Not sent is ``not_sent``'s definition: the engine's skipped steps (the outbox never saw
    them) as well as the outbox's skipped and cancelled rows.
    """
    rows = not_sent.not_sent_rows()
    unsent = session.execute(
        select(rows, Contact.email)
        .join(Contact, col(Contact.id) == rows.c.contact_id, isouter=True)
        .order_by(rows.c.at.desc())
        .limit(limit)
    ).all()
    failed = session.exec(
        select(OutboxMessage, Contact.email)
        .join(Contact, col(Contact.id) == col(OutboxMessage.contact_id), isouter=True)
        .where(col(OutboxMessage.status) == OutboxStatus.failed)
        .order_by(col(OutboxMessage.id).desc())
        .limit(limit)
    ).all()
    # What each row was about, in two queries: the outbox rows' payloads, the skipped steps'
    # blocks (their version's plan says which message they were to send).
    outbox_ids = [r.outbox_id for r in unsent if r.outbox_id is not None]
    chosen = select(OutboxMessage).where(col(OutboxMessage.id).in_(outbox_ids))
    sends = {m.id: m for m in session.exec(chosen)} if outbox_ids else {}
    step_enrollments = [r.enrollment_id for r in unsent if r.source == "step"]
    versions = _step_blocks(session, step_enrollments)
    found: list[tuple[datetime, str, str | None, str, str, str | None]] = []
    for r in unsent:
        if r.source == "outbox" and r.outbox_id in sends:
            send = sends[r.outbox_id]
            channel, key = send.channel, send.payload.get("message")
        else:
            block = versions.get((r.enrollment_id, r.node_id), {})
            channel = "sms" if block.get("kind") == "send_sms" else "email"
            key = (block.get("config") or {}).get("message")
        found.append((r.at, channel, key, "skipped", not_sent.sentence(r.reason), r.email))
    for send, email in failed:
        reason = send.last_error or gettext("no reason recorded")
        found.append(
            (send.created_at, send.channel, send.payload.get("message"), "failed", reason, email)
        )
    found.sort(key=lambda item: _aware(item[0]), reverse=True)
    found = found[:limit]
    names = _message_names(session, {key for _, _, key, *_ in found if key})
    return [
        Problem(email, channel, names.get(str(key), key) if key else None, status, reason, at)
        for at, channel, key, status, reason, email in found
    ]


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def _step_blocks(
    session: Session, enrollment_ids: list[int]
) -> dict[tuple[int, str], dict[str, Any]]:
    """{(enrollment, block id): the block in its version's graph}, for skipped steps."""
    if not enrollment_ids:
        return {}
    pairs = session.execute(
        select(col(Enrollment.id), col(Enrollment.version_id)).where(
            col(Enrollment.id).in_(enrollment_ids)
        )
    ).all()
    plans = {
        v.id: {str(n.get("id")): n for n in (v.graph.get("nodes") or []) if isinstance(n, dict)}
        for v in session.exec(
            select(ScenarioVersion).where(col(ScenarioVersion.id).in_({p[1] for p in pairs}))
        )
    }
    return {
        (enrollment_id, node_id): block
        for enrollment_id, version_id in pairs
        for node_id, block in plans.get(version_id, {}).items()
    }


def _message_names(session: Session, keys: set[str]) -> dict[str, str]:
    if not keys:
        return {}
    return dict(
        session.execute(
            select(col(MessageTemplate.key), col(MessageTemplate.name)).where(
                col(MessageTemplate.key).in_(keys)
            )
        ).all()
    )
