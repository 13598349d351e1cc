"""Contacts: reading them for the pages (the intake API comes with the contacts issue)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session, col, select

from app.models import Contact


def newest_contacts(session: Session, *, limit: int = 50) -> Sequence[Contact]:
    return session.exec(select(Contact).order_by(col(Contact.id).desc()).limit(limit)).all()
