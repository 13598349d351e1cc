"""Segment's anonymous visitors: which contact an ``anonymousId`` turned out to be, and the
events sent before anyone knew (DESIGN §12.1).

An event naming only an ``anonymousId`` that no ``identify`` or ``alias`` has linked yet waits
in ``anonymous_events``; the message that links the id moves them to ``events`` (where the
engine sees them) and records the link, so the visitor's later anonymous events go straight
to the contact.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Field, SQLModel

from app.db import UTCDateTime
from app.models.base import big_id_field, created_at_field, json_field


class AnonymousLink(SQLModel, table=True):
    __tablename__ = "anonymous_links"

    anonymous_id: str = Field(max_length=255, primary_key=True)
    contact_id: int = Field(foreign_key="contacts.id", ondelete="CASCADE", index=True)
    linked_at: datetime = created_at_field()


class AnonymousEvent(SQLModel, table=True):
    __tablename__ = "anonymous_events"

    id: int | None = big_id_field()
    # The message's id: a retried batch waits once, and moves to ``events`` under the same uid.
    uid: str = Field(max_length=100, unique=True)
    anonymous_id: str = Field(max_length=255, index=True)
    name: str = Field(max_length=100)
    properties: dict[str, Any] = json_field()
    occurred_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    received_at: datetime = created_at_field()
