"""The proof of a consent a form gave: which form, the words agreed to exactly as shown,
when, and from which address and browser — at submit, and at confirmation with double opt-in.

Kept in ``consent_proofs``; shown on the contact's page and part of the GDPR export (the
export reads every table with a ``contact_id``, ``app/services/contacts/gdpr.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from sqlmodel import Session, col, select

from app.models import ConsentProof, SignupForm

if TYPE_CHECKING:
    from app.services.capture.optin import Visitor


def record_proof(
    session: Session,
    contact_id: int,
    form: SignupForm,
    consent_text: str,
    submitter: Visitor,
    submitted_at: datetime,
    now: datetime,
    confirmer: Visitor | None = None,
) -> ConsentProof:
    """``submitter`` sent the form at ``submitted_at``; ``confirmer`` followed the link
    (double opt-in) ``now``."""
    proof = ConsentProof(
        contact_id=contact_id,
        form_id=form.id,
        form_key=form.key,
        form_name=form.name,
        channel="email",
        consent_text=consent_text,
        double_opt_in=confirmer is not None,
        ip=submitter.ip[:64],
        user_agent=submitter.user_agent[:300],
        submitted_at=submitted_at,
        granted_at=now,
    )
    if confirmer is not None:
        proof.confirmed_at = now
        proof.confirm_ip = confirmer.ip[:64]
        proof.confirm_user_agent = confirmer.user_agent[:300]
    session.add(proof)
    session.flush()
    return proof


def proofs_of(session: Session, contact_id: int) -> Sequence[ConsentProof]:
    """Newest first."""
    query = select(ConsentProof).where(col(ConsentProof.contact_id) == contact_id)
    return session.exec(query.order_by(col(ConsentProof.id).desc())).all()
