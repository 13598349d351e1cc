"""Message templates (the editor and personalisation come with the messaging issue)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session, col, select

from app.models import MessageTemplate


def list_templates(session: Session) -> Sequence[MessageTemplate]:
    return session.exec(select(MessageTemplate).order_by(col(MessageTemplate.name))).all()
