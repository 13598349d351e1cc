"""Email and SMS templates, addressed by a stable ``key``."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import String
from sqlmodel import Field, SQLModel

from app.models.base import created_at_field, id_field


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
    subject: str = Field(default="", max_length=500)
    html: str = ""
    text: str = ""
    from_name: str | None = Field(default=None, max_length=200)
    from_email: str | None = Field(default=None, max_length=320)
    reply_to: str | None = Field(default=None, max_length=320)
    created_at: datetime = created_at_field()
    updated_at: datetime = created_at_field()
