"""Signup forms, the confirmations they wait for, and the proof of each consent they gave.

A proof outlives its form (``form_id`` is set to NULL when the form is deleted: the form's key,
name and the consent text as shown are copied into it) but not its contact: an erased contact
takes its proofs and pending confirmations along (CASCADE), like its events.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, Text
from sqlmodel import Field, SQLModel

from app.db import UTCDateTime
from app.models.base import created_at_field, id_field, json_field, optional_time_field


class SignupForm(SQLModel, table=True):
    """A form a marketer built: what it asks, which lists it joins, the consent it shows."""

    __tablename__ = "forms"

    id: int | None = id_field()
    key: str = Field(max_length=100, unique=True)
    name: str = Field(max_length=200)
    # [{"name": "email" | "first_name" | … | an attribute, "label": str, "required": bool}]
    fields: list[dict[str, Any]] = json_field(list)
    lists: list[str] = json_field(list)  # list keys
    consent_text: str = Field(sa_type=Text)
    double_opt_in: bool = True
    thank_you: str = Field(default="", sa_type=Text)
    redirect_url: str | None = Field(default=None, max_length=2000)
    # "en", "fr"; None: the visitor's browser language.
    language: str | None = Field(default=None, max_length=8)
    created_at: datetime = created_at_field()
    updated_at: datetime = created_at_field()


class FormConfirmation(SQLModel, table=True):
    """A double opt-in waiting for its link to be followed. Only a SHA-256 of the link's token
    is kept; the answers are applied to the contact when it is."""

    __tablename__ = "form_confirmations"
    __table_args__ = (Index("ix_form_confirmations_email_sent", "email", "submitted_at"),)

    id: int | None = id_field()
    token_hash: str = Field(max_length=64, unique=True)
    form_id: int = Field(foreign_key="forms.id", ondelete="CASCADE", index=True)
    contact_id: int = Field(foreign_key="contacts.id", ondelete="CASCADE", index=True)
    email: str = Field(max_length=320)
    answers: dict[str, Any] = json_field()
    consent_text: str = Field(sa_type=Text)
    ip: str = Field(default="", max_length=64)
    user_agent: str = Field(default="", max_length=300)
    submitted_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    expires_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    confirmed_at: datetime | None = optional_time_field()


class ConsentProof(SQLModel, table=True):
    """What shows that a contact gave consent: through which form, the words they agreed to
    exactly as shown, when, and from which address and browser."""

    __tablename__ = "consent_proofs"

    id: int | None = id_field()
    contact_id: int = Field(foreign_key="contacts.id", ondelete="CASCADE", index=True)
    form_id: int | None = Field(default=None, foreign_key="forms.id", ondelete="SET NULL")
    form_key: str = Field(max_length=100)
    form_name: str = Field(max_length=200)
    channel: str = Field(default="email", max_length=10)
    consent_text: str = Field(sa_type=Text)
    double_opt_in: bool
    ip: str = Field(default="", max_length=64)
    user_agent: str = Field(default="", max_length=300)
    submitted_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    # With double opt-in: when the link was followed, from where; else None.
    confirmed_at: datetime | None = optional_time_field()
    confirm_ip: str | None = Field(default=None, max_length=64)
    confirm_user_agent: str | None = Field(default=None, max_length=300)
    granted_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
