"""One-click unsubscribe (RFC 8058) and the footer link of marketing emails.

The link holds the contact and the send it came from, signed with the app's secret. Opening
it shows a confirm button (mail scanners open links; they must not unsubscribe anyone); the
POST — from that button, or straight from the mail client's "Unsubscribe" through the
``List-Unsubscribe-Post`` header — withdraws email consent and cancels that contact's pending
marketing emails at once. Transactional emails (receipts) still go out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import update
from sqlmodel import Session, col, select

from app.models import Contact, MessagePurpose, MessageTemplate, OutboxMessage, OutboxStatus
from app.services.account.preferences import contact_language
from app.services.messaging.tracking import EVENTS

UNSUBSCRIBE_SALT = "parcours.unsubscribe"
UNSUBSCRIBE_SOURCE = "unsubscribe link"
UNSUBSCRIBED_EVENT = "email_unsubscribed"
CANCEL_REASON = "Not sent: the contact unsubscribed."


@dataclass(frozen=True)
class UnsubscribeLink:
    contact_id: int | None  # None: a test email, nobody to unsubscribe
    key: str  # the send it came from


class UnsubscribeLinks:
    def __init__(self, base_url: str, secret: str) -> None:
        self.base_url = base_url.rstrip("/")
        self._signer = URLSafeSerializer(secret, salt=UNSUBSCRIBE_SALT)

    def url(self, contact_id: int | None, key: str) -> str:
        return f"{self.base_url}/u/{self._signer.dumps([contact_id, key])}"

    def read(self, token: str) -> UnsubscribeLink | None:
        try:
            data = self._signer.loads(token)
        except BadSignature:
            return None
        if not isinstance(data, list) or len(data) != 2:
            return None
        contact_id, key = data
        if contact_id is not None and not isinstance(contact_id, int):
            return None
        return UnsubscribeLink(contact_id, str(key))


def reader_language(session: Session, contact_id: int | None) -> str:
    """The language of the page a link opens: the contact's own when Parcours speaks it, else
    the workspace's (a test link, a contact since erased, a language it does not speak)."""
    contact = session.get(Contact, contact_id) if contact_id is not None else None
    return contact_language(session, contact.language if contact is not None else None)


@dataclass(frozen=True)
class Unsubscribed:
    contact: Contact
    already: bool  # consent had been withdrawn before
    cancelled: int  # pending marketing emails cancelled


def unsubscribe(
    session: Session, contact_id: int, now: datetime, *, key: str | None = None
) -> Unsubscribed | None:
    """None when the contact no longer exists."""
    contact = session.get(Contact, contact_id, with_for_update=True)
    if contact is None:
        return None
    already = not contact.email_consent and contact.email_consent_source == UNSUBSCRIBE_SOURCE
    if not already:
        contact.email_consent = False
        contact.email_consent_source = UNSUBSCRIBE_SOURCE
        contact.email_consent_at = now
        contact.updated_at = now
        session.add(contact)
        session.execute(
            EVENTS.insert(),
            [
                {
                    "uid": f"{UNSUBSCRIBED_EVENT}:{contact_id}:{now.isoformat()}"[:100],
                    "contact_id": contact_id,
                    "name": UNSUBSCRIBED_EVENT,
                    "properties": {"from_send": key},
                    "occurred_at": now,
                    "received_at": now,
                }
            ],
        )
    cancelled = cancel_pending_marketing(session, contact_id)
    session.flush()
    return Unsubscribed(contact=contact, already=already, cancelled=cancelled)


def cancel_pending_marketing(session: Session, contact_id: int) -> int:
    """Cancels the contact's pending marketing emails, including ones a worker has claimed
    but not rendered yet (it checks consent again before sending)."""
    pending = session.exec(
        select(OutboxMessage.id, OutboxMessage.payload).where(
            col(OutboxMessage.contact_id) == contact_id,
            col(OutboxMessage.status) == OutboxStatus.pending,
            col(OutboxMessage.channel) == "email",
        )
    ).all()
    if not pending:
        return 0
    keys = {str((payload or {}).get("message")) for _, payload in pending}
    transactional = set(
        session.exec(
            select(MessageTemplate.key).where(
                col(MessageTemplate.key).in_(keys),
                col(MessageTemplate.purpose) == MessagePurpose.transactional,
            )
        ).all()
    )
    ids = [
        row_id
        for row_id, payload in pending
        if str((payload or {}).get("message")) not in transactional
        and not (payload or {}).get("test")
    ]
    if not ids:
        return 0
    result = session.execute(
        update(OutboxMessage)
        .where(col(OutboxMessage.id).in_(ids), col(OutboxMessage.status) == OutboxStatus.pending)
        .values(status=OutboxStatus.cancelled, last_error=CANCEL_REASON)
    )
    return int(getattr(result, "rowcount", 0) or 0)
