"""What contacts do: tracked events, de-duplicated by their id."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, text
from sqlmodel import Field, SQLModel

from app.db import UTCDateTime
from app.models.base import big_id_field, created_at_field, json_field, optional_time_field


class Event(SQLModel, table=True):
    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_contact_name_time", "contact_id", "name", "occurred_at"),
        # Only the events still to match: small however long the history grows.
        Index(
            "ix_events_unprocessed",
            "id",
            postgresql_where=text("processed_at IS NULL"),
            sqlite_where=text("processed_at IS NULL"),
        ),
        # The same by share of the contacts (``contact_id % 16``): a matching batch on
        # PostgreSQL takes one share's oldest events without scanning the others'.
        Index(
            "ix_events_unprocessed_share",
            text("(contact_id % 16)"),
            "id",
            postgresql_where=text("processed_at IS NULL"),
            sqlite_where=text("processed_at IS NULL"),
        ),
    )

    id: int | None = big_id_field()
    # The client's event id (or one we generate): the same event delivered twice is stored once.
    uid: str = Field(max_length=100, unique=True)
    contact_id: int = Field(foreign_key="contacts.id", ondelete="CASCADE")
    name: str = Field(max_length=100)
    properties: dict[str, Any] = json_field()
    occurred_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    received_at: datetime = created_at_field()
    # Set once the trigger matcher has looked at the event.
    processed_at: datetime | None = optional_time_field()
