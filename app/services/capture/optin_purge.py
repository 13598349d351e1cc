"""How long a double opt-in keeps what a visitor typed.

A confirmation holds the visitor's answers, address and browser until its link is followed. One
never followed is forgotten ``KEPT_AFTER_EXPIRY`` after its link expired (time enough to ask for a
new link); one followed is forgotten as well by then, its proof living on in ``consent_proofs``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlmodel import Session, col

from app.models import FormConfirmation

KEPT_AFTER_EXPIRY = timedelta(days=30)


def forget_old_confirmations(session: Session, now: datetime) -> int:
    """Deletes the confirmations past their keeping time; how many."""
    gone = session.execute(
        delete(FormConfirmation).where(col(FormConfirmation.expires_at) < now - KEPT_AFTER_EXPIRY)
    )
    return int(getattr(gone, "rowcount", 0) or 0)
