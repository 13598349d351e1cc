"""What the signup-form tests share: a form saved as a marketer would, and the link its
confirmation email holds."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from app.models import ContactList, OutboxMessage, SignupForm
from app.services.capture.forms import FormIn, create_form

CONSENT = "I agree to receive the Maison Lumière newsletter by email."


def make_form(session: Session, now: datetime, **changes: Any) -> SignupForm:
    if session.exec(select(ContactList).where(ContactList.key == "newsletter")).first() is None:
        session.add(ContactList(key="newsletter", name="Newsletter"))
        session.flush()
    body: dict[str, Any] = {
        "key": "newsletter-signup",
        "name": "Newsletter signup",
        "fields": [
            {"name": "email", "label": "Your email", "required": True},
            {"name": "first_name", "label": "Your first name", "required": True},
            {"name": "city", "label": "Your city", "required": False},
        ],
        "lists": ["newsletter"],
        "double_opt_in": True,
        "consent_text": CONSENT,
        "thank_you": "Welcome to the family!",
        **changes,
    }
    form = create_form(session, FormIn.model_validate(body), now)
    session.commit()
    return form


def confirmation_links(session: Session) -> list[str]:
    """The confirm_url of every confirmation email in the outbox, oldest first."""
    session.expire_all()
    rows = session.exec(
        select(OutboxMessage.payload)
        .where(col(OutboxMessage.idempotency_key).startswith("form-confirmation:"))
        .order_by(col(OutboxMessage.id))
    ).all()
    return [row["event"]["properties"]["confirm_url"] for row in rows]


def path_of(url: str) -> str:
    return url.removeprefix("http://testserver")
