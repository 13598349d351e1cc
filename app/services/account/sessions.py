"""Server-side login sessions: the signed cookie names a row, and the row is the session.

Ending a session deletes its row, so a copied cookie stops working at once: logout, "log out
everywhere", a changed password and a deactivated user all end sessions for real.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlmodel import Session, col, func, select

from app.models import User, UserSession


def start_session(session: Session, user: User, *, user_agent: str, now: datetime) -> str:
    assert user.id is not None
    sid = secrets.token_urlsafe(32)
    session.add(UserSession(id=sid, user_id=user.id, created_at=now, user_agent=user_agent[:300]))
    return sid


def session_user(session: Session, sid: object, *, now: datetime, max_age: int) -> User | None:
    """The active user a session id belongs to, if the session is still open and not too old."""
    if not isinstance(sid, str) or not sid:
        return None
    row = session.get(UserSession, sid)
    if row is None or row.created_at < now - timedelta(seconds=max_age):
        return None
    user = session.get(User, row.user_id)
    return user if user is not None and user.is_active else None


def end_session(session: Session, sid: object) -> None:
    if isinstance(sid, str):
        session.execute(delete(UserSession).where(col(UserSession.id) == sid))


def end_user_sessions(session: Session, user_id: int, *, keep: str | None = None) -> int:
    """End every session of a user (but ``keep``, the one making the change, if given)."""
    statement = delete(UserSession).where(col(UserSession.user_id) == user_id)
    if keep is not None:
        statement = statement.where(col(UserSession.id) != keep)
    return session.execute(statement).rowcount  # type: ignore[attr-defined]


def count_user_sessions(session: Session, user_id: int, *, now: datetime, max_age: int) -> int:
    since = now - timedelta(seconds=max_age)
    query = select(func.count()).where(
        col(UserSession.user_id) == user_id, col(UserSession.created_at) >= since
    )
    return session.exec(query).one()


def forget_expired_sessions(session: Session, *, now: datetime, max_age: int) -> None:
    since = now - timedelta(seconds=max_age)
    session.execute(delete(UserSession).where(col(UserSession.created_at) < since))
