"""A signup form's answers become a contact, and — once they agree twice, with double opt-in —
a consent with its proof (DESIGN §12.2).

- Sent: ``form_submitted`` is recorded at once on the contact (created without consent when
  new; an existing contact is left as it is, since anyone can type anyone's address).
- With double opt-in, a confirmation email (transactional, through the outbox like every send)
  holds a link with a random token, of which only a SHA-256 is stored; it works for
  ``CONFIRM_DAYS``. Following it applies the answers, grants email consent through the
  contacts' own path (``upsert_contact``, so ``consent_changed`` fires as for any update),
  joins the lists, keeps the proof and records ``optin_confirmed``. Twice does nothing more.
- Without double opt-in, all of that happens at once, at submit.
The caller commits, then wakes the engine (and the sender).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import update
from sqlmodel import Session, col, select

from app.models import (
    Channel,
    Contact,
    ContactList,
    FormConfirmation,
    MessagePurpose,
    SignupForm,
)
from app.services.capture.forms_answers import Answers, contact_data
from app.services.capture.optin_proofs import record_proof
from app.services.contacts.contacts import (
    change_event,
    find_contact,
    record_events,
    upsert_contact,
)
from app.services.contacts.fields import ConsentChange, ContactData, FieldProblem
from app.services.contacts.gdpr import lift_suppression
from app.services.contacts.lists import add_members
from app.services.messaging.messages import MessageIn, find_message, save_message
from app.services.messaging.outbox import OutboxEntry, add_to_outbox

FORM_SUBMITTED = "form_submitted"
OPTIN_CONFIRMED = "optin_confirmed"
CONFIRM_DAYS = 7
CONFIRMATION_MESSAGE = "signup-confirmation"


@dataclass(frozen=True)
class Visitor:
    """Who sent the form or followed the link: what the proof keeps, and the page's language."""

    ip: str
    user_agent: str
    language: str


def source_of(form: SignupForm) -> str:
    return f"form:{form.key}"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def confirmation_key(language: str) -> str:
    """One confirmation email per language (a template is written in one language)."""
    return CONFIRMATION_MESSAGE if language == "en" else f"{CONFIRMATION_MESSAGE}-{language}"


def ensure_confirmation_message(session: Session, language: str, now: datetime) -> str:
    """The confirmation email of ``language``, added from the starter set when missing (a
    marketer may have deleted it); an existing one is kept as the marketer edited it."""
    from app.message_templates import starters

    key = confirmation_key(language)
    if find_message(session, key) is None:
        starter = starters(language)[CONFIRMATION_MESSAGE]
        data = MessageIn(
            key=key,
            name=starter.name if language == "en" else f"{starter.name} ({language})",
            channel=Channel.email,
            purpose=MessagePurpose.transactional,
            subject=starter.subject,
            html=starter.html,
            text=starter.text,
        )
        save_message(session, data, now)
    return key


def _form_event(contact_id: int, name: str, form: SignupForm, now: datetime) -> dict:
    properties = {"form": form.key, "form_name": form.name, "double_opt_in": form.double_opt_in}
    return change_event(contact_id, name, properties, now)


def _language_of(form: SignupForm, visitor: Visitor) -> str:
    return form.language or visitor.language


def _new_contact(
    session: Session, data: ContactData, form: SignupForm, visitor: Visitor, now: datetime
) -> Contact:
    data.fields.setdefault("language", _language_of(form, visitor))
    return upsert_contact(session, data, now=now, source=source_of(form)).contact


def _grant(
    session: Session, form: SignupForm, data: ContactData, now: datetime
) -> tuple[Contact, bool]:
    """Consent through the contacts' own path; (contact, granted). Not granted for an
    address erased on request (GDPR) unless its suppression was lifted (``confirm`` does)."""
    data.consent["email"] = ConsentChange(granted=True, source=source_of(form), at=now)
    result = upsert_contact(session, data, now=now, source=source_of(form))
    contact = result.contact
    assert contact.id is not None
    if result.suppressed:
        return contact, False
    # The lists that still exist: one deleted since the form was saved must not make the
    # visitor's consent fail.
    query = select(ContactList).where(col(ContactList.key).in_(form.lists))
    lists = list(session.exec(query).all()) if form.lists else []
    if lists:
        add_members(session, lists, [contact.id], now=now, source=source_of(form))
    return contact, True


def submit(
    session: Session,
    form: SignupForm,
    answers: Answers,
    visitor: Visitor,
    now: datetime,
    *,
    confirm_base: str,
) -> Contact:
    """Records a sent form; ``confirm_base`` + token is the confirmation link."""
    data = contact_data(answers.values)
    contact = find_contact(session, email=answers.email)
    if not form.double_opt_in:
        if contact is not None:  # known: only the consent and lists change, not the profile
            data = ContactData(fields={"email": answers.email})
        else:
            data.fields.setdefault("language", _language_of(form, visitor))
        contact, granted = _grant(session, form, data, now)
        assert contact.id is not None
        if granted:
            record_proof(session, contact.id, form, form.consent_text, visitor, now, now)
        record_events(session, [_form_event(contact.id, FORM_SUBMITTED, form, now)])
        return contact
    if contact is None:
        contact = _new_contact(session, data, form, visitor, now)
    assert contact.id is not None
    assert form.id is not None
    record_events(session, [_form_event(contact.id, FORM_SUBMITTED, form, now)])
    pending = FormConfirmation(
        token_hash="",
        form_id=form.id,
        contact_id=contact.id,
        email=answers.email,
        answers=answers.values,
        consent_text=form.consent_text,
        ip=visitor.ip[:64],
        user_agent=visitor.user_agent[:300],
        submitted_at=now,
        expires_at=now,
    )
    send_confirmation(session, pending, form, _language_of(form, visitor), now, confirm_base)
    return contact


def send_confirmation(
    session: Session,
    pending: FormConfirmation,
    form: SignupForm,
    language: str,
    now: datetime,
    confirm_base: str,
) -> None:
    """A fresh link for ``pending`` (saved here) and its email in the outbox, keyed by the
    confirmation and its token, so each link's email leaves exactly once."""
    token = secrets.token_urlsafe(32)
    pending.token_hash = token_hash(token)
    pending.expires_at = now + timedelta(days=CONFIRM_DAYS)
    session.add(pending)
    session.flush()
    message = ensure_confirmation_message(session, language, now)
    properties = {"form": form.name, "form_key": form.key, "confirm_url": confirm_base + token}
    entry = OutboxEntry(
        idempotency_key=f"form-confirmation:{pending.id}:{pending.token_hash[:16]}",
        channel="email",
        contact_id=pending.contact_id,
        payload={"message": message, "event": {"name": FORM_SUBMITTED, "properties": properties}},
    )
    add_to_outbox(session, [entry], now)


State = Literal["waiting", "confirmed", "already", "expired", "broken"]


@dataclass(frozen=True)
class Confirmation:
    state: State
    form: SignupForm | None = None
    pending: FormConfirmation | None = None


def find_pending(
    session: Session, token: str, now: datetime, *, lock: bool = False
) -> Confirmation:
    """What a link is: unknown (or its contact's address changed since), already followed,
    expired or waiting; read, nothing written. ``lock`` holds the row for a change."""
    if not token or len(token) > 100:
        return Confirmation("broken")
    query = select(FormConfirmation).where(col(FormConfirmation.token_hash) == token_hash(token))
    pending = session.exec(query.with_for_update() if lock else query).first()
    if pending is None:
        return Confirmation("broken")
    form = session.get(SignupForm, pending.form_id)
    contact = session.get(Contact, pending.contact_id)
    if form is None or contact is None or contact.email != pending.email:
        return Confirmation("broken")
    if pending.confirmed_at is not None:
        return Confirmation("already", form, pending)
    return Confirmation("expired" if pending.expires_at <= now else "waiting", form, pending)


def confirm(session: Session, token: str, visitor: Visitor, now: datetime) -> Confirmation:
    found = find_pending(session, token, now, lock=True)
    if found.state != "waiting" or found.pending is None or found.form is None:
        return found
    pending, form = found.pending, found.form
    # The guard makes a second click (or a race with it) change nothing.
    claimed = session.execute(
        update(FormConfirmation)
        .where(col(FormConfirmation.id) == pending.id, col(FormConfirmation.confirmed_at).is_(None))
        .values(confirmed_at=now)
    )
    if not getattr(claimed, "rowcount", 0):
        return Confirmation("already", form, pending)
    # An address erased on request may take consent again once its owner has confirmed it:
    # that is the fresh opt-in the suppression waits for (app/services/contacts/gdpr.py).
    lift_suppression(session, pending.email)
    try:
        data = contact_data({**pending.answers, "email": pending.email})
    except FieldProblem:  # a rule tightened since it was typed: keep the address alone
        data = ContactData(fields={"email": pending.email})
    contact, granted = _grant(session, form, data, now)
    assert contact.id is not None
    if granted:
        submitter = _submitter(pending)
        text = pending.consent_text
        record_proof(session, contact.id, form, text, submitter, pending.submitted_at, now, visitor)
    record_events(session, [_form_event(contact.id, OPTIN_CONFIRMED, form, now)])
    return Confirmation("confirmed", form, pending)


def _submitter(pending: FormConfirmation) -> Visitor:
    return Visitor(ip=pending.ip, user_agent=pending.user_agent, language="")


def resend(
    session: Session, found: Confirmation, language: str, now: datetime, confirm_base: str
) -> bool:
    """A new link for a confirmation not followed yet (the old one stops working)."""
    if found.pending is None or found.form is None or found.pending.confirmed_at is not None:
        return False
    send_confirmation(session, found.pending, found.form, language, now, confirm_base)
    return True
