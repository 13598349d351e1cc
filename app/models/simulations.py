"""What-if runs of a scenario over the real contact base (CONTRACTS-2 §A). A row holds the
request, how far the worker got and, once done, the predicted counts; nothing else a
simulation does is ever written (it runs against an in-memory copy, see worker/simulation)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import String
from sqlmodel import Field, SQLModel

from app.models.base import created_at_field, id_field, json_field, optional_time_field


class SimulationStatus(StrEnum):
    running = "running"
    done = "done"
    failed = "failed"
    cancelled = "cancelled"


class Simulation(SQLModel, table=True):
    __tablename__ = "simulations"

    id: int | None = id_field()
    scenario_id: int = Field(foreign_key="scenarios.id", ondelete="CASCADE", index=True)
    # None: the draft as it was when asked (kept in ``graph``); else a published version.
    version: int | None = None
    graph: dict[str, Any] = json_field()
    replay_days: int = 30
    horizon_days: int = 30
    include_existing: bool = False
    status: SimulationStatus = Field(default=SimulationStatus.running, sa_type=String(10))
    progress: float = 0.0
    # The moment the run stands for ("now"): replay from replay_days before, on to the horizon.
    as_of: datetime = created_at_field()
    created_at: datetime = created_at_field()
    finished_at: datetime | None = optional_time_field()
    # Set by the run at its start and after each chunk: a running simulation whose run fell
    # silent (its worker died) is queued again by the sweep.
    heartbeat_at: datetime | None = optional_time_field()
    error: str | None = None
    # The counts so far (merged chunk after chunk), the full answer once done.
    result: dict[str, Any] = json_field()
