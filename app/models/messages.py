"""Email and SMS templates, addressed by a stable ``key``, and the built-in mailbox."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Index, String
from sqlmodel import Field, SQLModel

from app.db import BigIntId
from app.models.base import big_id_field, created_at_field, id_field, json_field
from app.models.outbox import OutboxMessage


class Channel(StrEnum):
    email = "email"
    sms = "sms"


class MessagePurpose(StrEnum):
    # Only marketing messages require consent; transactional ones (receipts) do not.
    marketing = "marketing"
    transactional = "transactional"


class MessageTemplate(SQLModel, table=True):
    __tablename__ = "message_templates"

    id: int | None = id_field()
    key: str = Field(max_length=100, unique=True)
    name: str = Field(max_length=200)
    channel: Channel = Field(default=Channel.email, sa_type=String(10))
    purpose: MessagePurpose = Field(default=MessagePurpose.marketing, sa_type=String(20))
    # What a marketing email is about (a topic's key): a contact who left it does not get it.
    topic: str | None = Field(default=None, max_length=100, foreign_key="topics.key")
    subject: str = Field(default="", max_length=500)
    html: str = ""
    text: str = ""  # the plain-text body of an email, or the whole SMS
    from_name: str | None = Field(default=None, max_length=200)
    from_email: str | None = Field(default=None, max_length=320)
    reply_to: str | None = Field(default=None, max_length=320)
    created_at: datetime = created_at_field()
    updated_at: datetime = created_at_field()


class MailboxMessage(SQLModel, table=True):
    """An email or SMS as the contact would have received it, kept when no SMTP server (or no
    SMS provider) is configured. Written in the same transaction that marks the send done, so
    the mailbox holds each send exactly once."""

    __tablename__ = "mailbox_messages"
    __table_args__ = (Index("ix_mailbox_messages_created", "created_at"),)

    id: int | None = big_id_field()
    outbox_id: int | None = Field(
        default=None, sa_type=BigIntId, foreign_key="outbox.id", ondelete="SET NULL"
    )
    contact_id: int | None = Field(
        default=None, foreign_key="contacts.id", ondelete="SET NULL", index=True
    )
    channel: str = Field(max_length=20)  # email | sms | notify
    message_key: str | None = Field(default=None, max_length=100)
    to_address: str = Field(max_length=320)
    from_address: str = Field(default="", max_length=400)
    subject: str = Field(default="", max_length=500)
    html: str = ""
    text: str = ""
    headers: dict[str, Any] = json_field()
    created_at: datetime = created_at_field()


# Unsubscribing cancels a contact's pending sends at once, and a contact's page lists its
# sends: both look the outbox up by contact. Declared here, with the messaging tables.
Index("ix_outbox_contact_status", OutboxMessage.contact_id, OutboxMessage.status)  # type: ignore[arg-type]
