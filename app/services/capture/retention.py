"""How long capture keeps what visitors left behind, run from the worker's sweep once an hour.

- A double opt-in's confirmation holds the visitor's answers, address and browser until its
  link is followed. It is forgotten ``KEPT_AFTER_EXPIRY`` after its link expired (time enough
  to ask for a new link), followed or not: a followed one's proof lives on in
  ``consent_proofs``.
- An anonymous visitor's Segment events wait for an identify or alias naming their
  ``anonymousId``; those still waiting after ``ANONYMOUS_KEPT`` are forgotten (analytics.js
  keeps an anonymous id for a year, but a visitor who never signed up in a month rarely does).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlmodel import Session, col

from app.models import AnonymousEvent, FormConfirmation

KEPT_AFTER_EXPIRY = timedelta(days=30)
ANONYMOUS_KEPT = timedelta(days=30)


def forget_old_confirmations(session: Session, now: datetime) -> int:
    """Deletes the confirmations past their keeping time; how many."""
    gone = session.execute(
        delete(FormConfirmation).where(col(FormConfirmation.expires_at) < now - KEPT_AFTER_EXPIRY)
    )
    return int(getattr(gone, "rowcount", 0) or 0)


def forget_old_anonymous_events(session: Session, now: datetime) -> int:
    """Deletes the anonymous events that waited too long for their visitor; how many."""
    gone = session.execute(
        delete(AnonymousEvent).where(col(AnonymousEvent.received_at) < now - ANONYMOUS_KEPT)
    )
    return int(getattr(gone, "rowcount", 0) or 0)


def forget_what_is_past_keeping(session: Session, now: datetime) -> None:
    forget_old_confirmations(session, now)
    forget_old_anonymous_events(session, now)
