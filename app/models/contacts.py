"""Contacts, static lists and list memberships."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Index, text
from sqlmodel import Field, SQLModel

from app.models.base import created_at_field, id_field, json_field, optional_time_field

BUILTIN_ATTRIBUTES = (
    "email",
    "phone",
    "first_name",
    "last_name",
    "birthday",
    "timezone",
    "language",
    "score",
    "created_at",
)


class Contact(SQLModel, table=True):
    """A person. Built-in fields are columns (they are filtered on); the rest is ``attributes``."""

    __tablename__ = "contacts"
    # Room on each page for a changed score or attribute to stay there (a HOT update on
    # PostgreSQL: no index touched); the engine changes contacts constantly.
    __table_args__ = ({"postgresql_with": {"fillfactor": 85}},)

    id: int | None = id_field()
    external_id: str | None = Field(default=None, max_length=255, unique=True)
    email: str | None = Field(default=None, max_length=320, unique=True)
    phone: str | None = Field(default=None, max_length=32, index=True)
    first_name: str | None = Field(default=None, max_length=200)
    last_name: str | None = Field(default=None, max_length=200)
    birthday: date | None = None
    timezone: str = Field(default="UTC", max_length=64)
    # What the contact reads: "fr", "en"; None means the workspace's contact language.
    language: str | None = Field(default=None, max_length=8)
    score: int = 0
    attributes: dict[str, Any] = json_field()
    email_consent: bool = False
    email_consent_source: str | None = Field(default=None, max_length=200)
    email_consent_at: datetime | None = optional_time_field()
    sms_consent: bool = False
    sms_consent_source: str | None = Field(default=None, max_length=200)
    sms_consent_at: datetime | None = optional_time_field()
    # Whether mail reaches this address (app/services/messaging/bounces.py): None, "bounced"
    # (a permanent refusal: never sent to again) or "complained" (marked as spam: no more
    # marketing), with the server's or provider's words and when; cleared when the email
    # changes or a marketer resets it. Soft bounces: sends given up on in a row.
    email_status: str | None = Field(default=None, max_length=16)
    email_status_reason: str | None = Field(default=None, max_length=500)
    email_status_at: datetime | None = optional_time_field()
    # A server default too, so bulk inserts that name only the usual columns get 0.
    email_soft_bounces: int = Field(default=0, sa_column_kwargs={"server_default": text("0")})
    created_at: datetime = created_at_field()
    updated_at: datetime = created_at_field()


class ContactList(SQLModel, table=True):
    """A static list, addressed by a stable ``key`` that API clients and scenarios use."""

    __tablename__ = "lists"

    id: int | None = id_field()
    key: str = Field(max_length=100, unique=True)
    name: str = Field(max_length=200)
    description: str = ""
    created_at: datetime = created_at_field()


class ListMembership(SQLModel, table=True):
    __tablename__ = "list_memberships"
    __table_args__ = (Index("ix_list_memberships_contact", "contact_id"),)

    list_id: int = Field(foreign_key="lists.id", primary_key=True, ondelete="CASCADE")
    contact_id: int = Field(foreign_key="contacts.id", primary_key=True, ondelete="CASCADE")
    added_at: datetime = created_at_field()
    source: str = Field(default="api", max_length=50)
