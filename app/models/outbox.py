"""Every side effect (email, SMS, webhook, team alert) waits here before it is performed.

The unique ``idempotency_key`` — ``enrollment:block:step`` for scenario sends — is what makes a
retried or re-run step exactly-once on the outside.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Index, String, text
from sqlmodel import Field, SQLModel

from app.db import BigIntId, UTCDateTime
from app.models.base import (
    JSONType,
    big_id_field,
    created_at_field,
    json_field,
    optional_time_field,
)


class OutboxStatus(StrEnum):
    pending = "pending"
    sent = "sent"
    failed = "failed"  # permanently, with the reason in last_error
    skipped = "skipped"  # no consent, suppressed, unsubscribed: never retried
    cancelled = "cancelled"


class OutboxMessage(SQLModel, table=True):
    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_due", "status", "next_attempt_at"),
        # Sends not sent (``messaging.not_sent``), per scenario and block: few rows.
        Index(
            "ix_outbox_not_sent",
            "scenario_id",
            "node_id",
            postgresql_where=text("status IN ('skipped', 'cancelled')"),
            sqlite_where=text("status IN ('skipped', 'cancelled')"),
        ),
        # The frequency caps count a contact's marketing sends let through (``pacing``).
        Index(
            "ix_outbox_counted",
            "contact_id",
            "channel",
            "counted_at",
            postgresql_where=text("counted_at IS NOT NULL"),
            sqlite_where=text("counted_at IS NOT NULL"),
        ),
        # Sends ever held back, per block (the ``deferred`` counter): few rows.
        Index(
            "ix_outbox_held",
            "scenario_id",
            "node_id",
            postgresql_where=text("held_since IS NOT NULL"),
            sqlite_where=text("held_since IS NOT NULL"),
        ),
    )

    id: int | None = big_id_field()
    idempotency_key: str = Field(max_length=200, unique=True)
    channel: str = Field(max_length=20)  # email | sms | webhook | notify
    contact_id: int | None = Field(default=None, foreign_key="contacts.id", ondelete="SET NULL")
    scenario_id: int | None = Field(default=None, foreign_key="scenarios.id", ondelete="SET NULL")
    enrollment_id: int | None = Field(
        default=None, sa_type=BigIntId, foreign_key="enrollments.id", ondelete="SET NULL"
    )
    node_id: str | None = Field(default=None, max_length=100)
    payload: dict[str, Any] = json_field()
    status: OutboxStatus = Field(default=OutboxStatus.pending, sa_type=String(10))
    attempts: int = 0
    next_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    last_error: str | None = None
    created_at: datetime = created_at_field()
    sent_at: datetime | None = optional_time_field()
    # Sending rules (``worker/delivery/pacing.py``): when a marketing send was let through
    # under the caps (it counts from then on unless it ends failed or skipped), when it was
    # first held back, and why it is held now (a phrase, so it reads in the reader's language).
    counted_at: datetime | None = optional_time_field()
    held_since: datetime | None = optional_time_field()
    held: dict[str, Any] | None = Field(default=None, sa_type=JSONType, nullable=True)
    # When a mail provider said the message reached the recipient's server (an ESP's
    # "delivered" event, app/services/messaging/bounces.py); None when nobody said.
    delivered_at: datetime | None = optional_time_field()
