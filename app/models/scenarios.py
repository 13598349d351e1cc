"""Scenarios: one editable draft each, and immutable published versions."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import String, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.models.base import created_at_field, id_field, json_field, optional_time_field


class ScenarioStatus(StrEnum):
    draft = "draft"  # never activated
    active = "active"
    paused = "paused"


class Scenario(SQLModel, table=True):
    __tablename__ = "scenarios"

    id: int | None = id_field()
    name: str = Field(max_length=200)
    description: str = ""
    status: ScenarioStatus = Field(default=ScenarioStatus.draft, sa_type=String(10))
    # The canvas document, saved even when invalid; ``draft_revision`` guards concurrent saves.
    draft: dict[str, Any] = json_field()
    draft_revision: int = 1
    # Number of the version new contacts enter; None until the first activation.
    live_version: int | None = None
    template_key: str | None = Field(default=None, max_length=100)
    created_at: datetime = created_at_field()
    updated_at: datetime = created_at_field()
    activated_at: datetime | None = optional_time_field()
    # Set when a scenario that ran is deleted: hidden from the lists, its history kept.
    archived_at: datetime | None = optional_time_field()


class ScenarioVersion(SQLModel, table=True):
    """A published draft. Never updated: enrollments stay on the version they entered."""

    __tablename__ = "scenario_versions"
    __table_args__ = (UniqueConstraint("scenario_id", "number"),)

    id: int | None = id_field()
    scenario_id: int = Field(foreign_key="scenarios.id", ondelete="CASCADE")
    number: int
    graph: dict[str, Any] = json_field()
    plan: dict[str, Any] = json_field()
    published_at: datetime = created_at_field()
    published_by_id: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
