"""The built-in mailbox: what Parcours sent (or would have sent) when no SMTP is configured."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session, col, select

from app.models import OutboxMessage


def recent_sends(session: Session, *, limit: int = 50) -> Sequence[OutboxMessage]:
    return session.exec(
        select(OutboxMessage)
        .where(col(OutboxMessage.channel).in_(["email", "sms"]))
        .order_by(col(OutboxMessage.id).desc())
        .limit(limit)
    ).all()
