"""Contacts already there, waiting to enter a scenario activated "at most N per hour"
(CONTRACTS-2 §C). The queue is in the database, so a worker killed while it lets a batch in
loses nobody: the rows of a batch are deleted in the transaction that enrolls them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.db import UTCDateTime
from app.models.base import big_id_field, created_at_field


class EntryQueue(SQLModel, table=True):
    """One contact waiting to enter, through the trigger block it matched at activation."""

    __tablename__ = "entry_queue"
    __table_args__ = (
        # A contact waits once per scenario, however often it is activated with its contacts.
        UniqueConstraint("scenario_id", "contact_id"),
        # The drain takes a scenario's oldest rows first.
        Index("ix_entry_queue_scenario_id_id", "scenario_id", "id"),
    )

    id: int | None = big_id_field()
    scenario_id: int = Field(foreign_key="scenarios.id", ondelete="CASCADE")
    contact_id: int = Field(foreign_key="contacts.id", ondelete="CASCADE", index=True)
    node_id: str = Field(max_length=100)
    queued_at: datetime = created_at_field()


class EntryRamp(SQLModel, table=True):
    """How fast a scenario's queue enters: ``per_hour`` contacts, the next batch at
    ``next_at``. Removed with the queue's last row."""

    __tablename__ = "entry_ramps"

    scenario_id: int = Field(foreign_key="scenarios.id", primary_key=True, ondelete="CASCADE")
    per_hour: int
    next_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
