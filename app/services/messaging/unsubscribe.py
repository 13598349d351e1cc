"""One-click unsubscribe (RFC 8058) and the footer link of marketing emails.

The link holds the contact and the send it came from, signed with the app's secret. Opening
it shows a confirm button (mail scanners open links; they must not unsubscribe anyone); the
POST — from that button, or straight from the mail client's "Unsubscribe" through the
``List-Unsubscribe-Post`` header — withdraws email consent and cancels that contact's pending
marketing emails at once. Transactional emails (receipts) still go out.

The page is also the contact's preference center (DESIGN §12.3): a link from an email with a
topic carries that topic, and the page offers to leave only it, to choose topics, or to leave
everything. One-click from the mail client always leaves everything, as RFC 8058 expects.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import update
from sqlmodel import Session, col, select

from app.models import (
    Contact,
    MessagePurpose,
    MessageTemplate,
    OutboxMessage,
    OutboxStatus,
    Topic,
)
from app.services.account.preferences import contact_language
from app.services.messaging import topic_choices, topic_reasons
from app.services.messaging.topics import list_topics
from app.services.messaging.tracking import EVENTS

UNSUBSCRIBE_SALT = "parcours.unsubscribe"
UNSUBSCRIBE_SOURCE = "unsubscribe link"
PREFERENCE_SOURCE = "preference page"
UNSUBSCRIBED_EVENT = "email_unsubscribed"
CANCEL_REASON = "Not sent: the contact unsubscribed."


@dataclass(frozen=True)
class UnsubscribeLink:
    contact_id: int | None  # None: a test email, nobody to unsubscribe
    key: str  # the send it came from
    topic: str | None = None  # the key of that email's topic, when it had one


class UnsubscribeLinks:
    def __init__(self, base_url: str, secret: str) -> None:
        self.base_url = base_url.rstrip("/")
        self._signer = URLSafeSerializer(secret, salt=UNSUBSCRIBE_SALT)

    def url(self, contact_id: int | None, key: str, topic: str | None = None) -> str:
        # Links sent before topics hold two values; they still work (no topic).
        data: list[object] = [contact_id, key] if topic is None else [contact_id, key, topic]
        return f"{self.base_url}/u/{self._signer.dumps(data)}"

    def read(self, token: str) -> UnsubscribeLink | None:
        try:
            data = self._signer.loads(token)
        except BadSignature:
            return None
        if not isinstance(data, list) or len(data) not in (2, 3):
            return None
        contact_id, key, topic = (*data, None) if len(data) == 2 else data
        if contact_id is not None and not isinstance(contact_id, int):
            return None
        return UnsubscribeLink(contact_id, str(key), str(topic) if topic is not None else None)


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


def cancel_pending_marketing(
    session: Session, contact_id: int, topic: str | None = None, reason: str = CANCEL_REASON
) -> int:
    """Cancels the contact's pending marketing emails (only those of ``topic`` when given),
    including ones a worker has claimed but not rendered yet (it checks again before
    sending)."""
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
    of_topic = None
    if topic is not None:
        of_topic = set(
            session.exec(
                select(MessageTemplate.key).where(
                    col(MessageTemplate.key).in_(keys), col(MessageTemplate.topic) == topic
                )
            ).all()
        )
    ids = [
        row_id
        for row_id, payload in pending
        if str((payload or {}).get("message")) not in transactional
        and not (payload or {}).get("test")
        and (of_topic is None or str((payload or {}).get("message")) in of_topic)
    ]
    if not ids:
        return 0
    result = session.execute(
        update(OutboxMessage)
        .where(col(OutboxMessage.id).in_(ids), col(OutboxMessage.status) == OutboxStatus.pending)
        .values(status=OutboxStatus.cancelled, last_error=reason)
    )
    return int(getattr(result, "rowcount", 0) or 0)


@dataclass(frozen=True)
class TopicsChosen:
    left: list[str]  # the names of the topics the contact left now
    cancelled: int  # pending marketing emails of those topics cancelled


def choose_topics(
    session: Session,
    contact_id: int,
    keep: set[str],
    now: datetime,
    shown: set[str] | None = None,
) -> TopicsChosen | None:
    """The preference page: the contact stays in the topics of ``keep`` and leaves the others
    the page showed (``shown``; None: every topic), so a topic created since the page was
    opened, which the contact never saw, is not left (general consent untouched). None when
    the contact no longer exists."""
    topics = [t for t in list_topics(session) if shown is None or t.key in shown]
    return _choose(session, contact_id, [(t, t.key in keep) for t in topics], now)


def leave_topic(
    session: Session, contact_id: int, topic_key: str, now: datetime
) -> TopicsChosen | None:
    """Leaves one topic; every other choice stays as it was (a topic deleted since the email
    left leaves nothing). None when the contact no longer exists."""
    topics = [t for t in list_topics(session) if t.key == topic_key]
    return _choose(session, contact_id, [(t, False) for t in topics], now)


def _choose(
    session: Session, contact_id: int, wanted: list[tuple[Topic, bool]], now: datetime
) -> TopicsChosen | None:
    contact = session.get(Contact, contact_id, with_for_update=True)
    if contact is None:
        return None
    was_in = {c.topic.key for c in topic_choices.choices_of(session, contact_id) if c.subscribed}
    choices = {t.id: stay for t, stay in wanted if t.id is not None}
    topic_choices.choose(session, contact_id, choices, now=now, source=PREFERENCE_SOURCE)
    left = [t for t, stay in wanted if not stay and t.key in was_in]
    cancelled = sum(
        cancel_pending_marketing(session, contact_id, t.key, topic_reasons.outbox_reason(t.name))
        for t in left
    )
    session.flush()
    return TopicsChosen([t.name for t in left], cancelled)
