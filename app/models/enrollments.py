"""Contacts travelling through scenario versions, and the step log that records every move."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Index, String, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from app.db import BigIntId, UTCDateTime
from app.models.base import (
    JSONType,
    big_id_field,
    created_at_field,
    json_field,
    optional_time_field,
)


def _where(predicate: str) -> dict[str, Any]:
    return {"postgresql_where": text(predicate), "sqlite_where": text(predicate)}


class EnrollmentState(StrEnum):
    active = "active"  # has a step to run at ``wake_at`` (now, or later when retrying)
    waiting = "waiting"  # parked on a delay or a wait-for-event until ``wake_at``
    completed = "completed"
    exited = "exited"
    failed = "failed"


class StepOutcome(StrEnum):
    """What one step did; block counters are derived from these."""

    completed = "completed"  # the block did its job and the contact moved on
    yes = "yes"
    no = "no"
    skipped = "skipped"  # e.g. an email to a contact without consent: not sent, moved on
    waiting = "waiting"  # arrived on a delay and parked
    failed = "failed"  # kept failing after retries; the journey stops here
    exited = "exited"  # pulled out by the scenario's goal
    # Moved to another block (and version) or taken out by a publish (CONTRACTS-2 §B).
    migrated = "migrated"


class Enrollment(SQLModel, table=True):
    """One contact in one scenario version."""

    __tablename__ = "enrollments"
    __table_args__ = (
        # Partial: a journey that ended (the most of them, in time) has neither, so it costs
        # these indexes nothing.
        Index("ix_enrollments_due", "wake_at", "id", **_where("wake_at IS NOT NULL")),
        Index(
            "ix_enrollments_waiting_event",
            "wait_event",
            "contact_id",
            **_where("wait_event IS NOT NULL"),
        ),
        Index("ix_enrollments_scenario_node", "scenario_id", "node_id", "state"),
        Index("ix_enrollments_contact_scenario", "contact_id", "scenario_id"),
    )

    id: int | None = big_id_field()
    # No keys to the scenario and its version: neither is ever deleted, and PostgreSQL checks
    # a key by locking the row it points to — one row that every new enrollment would lock.
    scenario_id: int
    version_id: int
    # Erasing a contact takes their journeys with them, even one entered at that moment.
    contact_id: int = Field(foreign_key="contacts.id", ondelete="CASCADE")
    node_id: str = Field(max_length=100)
    state: EnrollmentState = Field(default=EnrollmentState.active, sa_type=String(10))
    wake_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    # Incremented on every step: with the block id it makes each side effect's idempotency key.
    seq: int = 0
    # What the instance is about, e.g. the cart_id of an abandoned-cart journey.
    instance_key: str | None = Field(default=None, max_length=200)
    # Properties of the triggering event, for personalisation ({{ event.properties.x }}).
    context: dict[str, Any] = json_field()
    wait_event: str | None = Field(default=None, max_length=100)
    wait_key: str | None = Field(default=None, max_length=200)
    # The port a parked enrollment leaves by when it wakes: a wait-for-event sets "no" (the
    # time-out) when it parks, and the awaited event switches it to "yes".
    wake_port: str | None = Field(default=None, max_length=10)
    attempts: int = 0
    last_error: str | None = None
    entered_at: datetime = created_at_field()
    updated_at: datetime = created_at_field()
    ended_at: datetime | None = optional_time_field()
    # When the event that let the contact in happened (its own time, not when it was matched)
    # and which event it was: awaited events and goals count from here, whatever the backlog.
    trigger_at: datetime | None = optional_time_field()
    trigger_event_id: int | None = Field(default=None, sa_type=BigIntId, nullable=True)


class StepLog(SQLModel, table=True):
    """The trace: one row per step, with the explanation for conditions and waits.

    Block counters are derived from here, so they can always be rebuilt exactly.
    """

    __tablename__ = "step_log"
    __table_args__ = (
        UniqueConstraint("enrollment_id", "seq"),
        Index("ix_step_log_scenario_node_at", "scenario_id", "node_id", "at"),
        # Sends not sent (``messaging.not_sent``): few rows, read by every Mailbox and canvas.
        Index("ix_step_log_not_sent", "scenario_id", "node_id", **_where("outcome = 'skipped'")),
    )

    id: int | None = big_id_field()
    # No foreign keys: the engine writes a row per step, and PostgreSQL checks a key by locking
    # the row it points to, which took a third of the step log's write time. Rows are written
    # in their enrollment's transaction and erased with it (``gdpr.erase_contact``); the other
    # columns copy the enrollment's, for the statistics index. A contact's steps are found
    # through their enrollments (``contact_views.contact_steps``).
    enrollment_id: int = Field(sa_type=BigIntId)
    scenario_id: int
    version_id: int
    contact_id: int
    node_id: str = Field(max_length=100)
    seq: int
    outcome: str = Field(max_length=20)
    detail: dict[str, Any] | None = Field(default=None, sa_type=JSONType, nullable=True)
    at: datetime = created_at_field()


class SegmentMember(SQLModel, table=True):
    """Who was in a segment at the engine's last check, so "entered the segment" can fire."""

    __tablename__ = "segment_members"

    segment_key: str = Field(max_length=100, primary_key=True)
    contact_id: int = Field(foreign_key="contacts.id", primary_key=True, ondelete="CASCADE")
    since: datetime = created_at_field()


class SegmentCheck(SQLModel, table=True):
    """When the engine last compared a segment with its members; absent: never (the first
    check only records who is in, so existing members do not all enter at once)."""

    __tablename__ = "segment_checks"

    segment_key: str = Field(max_length=100, primary_key=True)
    checked_at: datetime = created_at_field()
