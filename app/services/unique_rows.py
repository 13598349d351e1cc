"""Inserting a row whose key another request may be inserting at the same moment.

Checking first ("is this key taken?") is not enough on PostgreSQL: two transactions can both
see the key free, and the second insert then fails on the unique index. The insert runs in a
savepoint, so losing that race only undoes the savepoint: the caller answers as if the key had
been taken all along (an update, or a 409), never a 500, and its transaction goes on.
"""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel


def add_unique(session: Session, row: SQLModel) -> bool:
    """Adds and flushes ``row``; False (and the row left out) when its key was taken."""
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        return False
    return True
