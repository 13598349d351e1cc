"""Segments (dynamic lists), the GDPR suppression list and CSV import jobs."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Index, String, Text
from sqlmodel import Field, SQLModel

from app.models.base import created_at_field, id_field, json_field, optional_time_field


class Segment(SQLModel, table=True):
    """Contacts matching a condition (DESIGN §4), evaluated in SQL whenever it is asked."""

    __tablename__ = "segments"

    id: int | None = id_field()
    key: str = Field(max_length=100, unique=True)
    name: str = Field(max_length=200)
    description: str = ""
    condition: dict[str, Any] = json_field()
    created_at: datetime = created_at_field()
    updated_at: datetime = created_at_field()
    # Set by the segment watcher when the condition cannot be evaluated (the others are still
    # checked); cleared when a save or a later check succeeds.
    broken_reason: str | None = Field(default=None, sa_type=Text)
    broken_at: datetime | None = optional_time_field()


class Suppression(SQLModel, table=True):
    """What stays of an erased contact: a SHA-256 of the normalised email, nothing readable.

    While it is here, imports skip that email and the API never grants it marketing consent
    again unless the person opts in anew (see ``app/services/contacts/gdpr.py``).
    """

    __tablename__ = "suppressions"

    email_hash: str = Field(max_length=64, primary_key=True)
    reason: str = Field(default="erased on request", max_length=100)
    created_at: datetime = created_at_field()


class ImportStatus(StrEnum):
    mapping = "mapping"  # uploaded, waiting for the marketer to map the columns
    queued = "queued"
    running = "running"
    done = "done"
    failed = "failed"


class ContactImport(SQLModel, table=True):
    """A CSV upload and its progress. The file is kept in the database so any worker can read
    it; ``processed_rows`` is committed with each chunk, so a retried job resumes there."""

    __tablename__ = "contact_imports"

    id: int | None = id_field()
    filename: str = Field(max_length=255)
    content: str = Field(sa_type=Text)
    delimiter: str = Field(default=",", max_length=1)
    columns: list[str] = json_field(list)
    # column name -> {"field": "email" | "first_name" | ... | "attribute" | "ignore",
    #                 "name": custom attribute name, "type": "text" | "number" | ...}
    mapping: dict[str, Any] = json_field()
    list_key: str | None = Field(default=None, max_length=100)
    consent_source: str | None = Field(default=None, max_length=200)
    status: ImportStatus = Field(default=ImportStatus.mapping, sa_type=String(10))
    total_rows: int = 0
    processed_rows: int = 0
    created_count: int = 0
    updated_count: int = 0
    rejected_count: int = 0
    error: str | None = None
    created_by_id: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    # The language of whoever uploaded it: the worker writes the report's reasons in it.
    language: str | None = Field(default=None, max_length=8)
    created_at: datetime = created_at_field()
    started_at: datetime | None = optional_time_field()
    finished_at: datetime | None = optional_time_field()


class ImportRejection(SQLModel, table=True):
    """One rejected CSV row with its reason: the downloadable report."""

    __tablename__ = "contact_import_rejections"
    __table_args__ = (Index("ix_contact_import_rejections_import_row", "import_id", "row_number"),)

    id: int | None = id_field()
    import_id: int = Field(foreign_key="contact_imports.id", ondelete="CASCADE")
    row_number: int
    reason: str
    values: list[str] = json_field(list)
