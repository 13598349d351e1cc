"""The account's sending rules (CONTRACTS-2 §D): quiet hours, frequency caps, priorities.

One row (id 1), made on first write; no row means no rules. The three parts are stored as the
API reads them, validated on the way in (``messaging.sending_rules``), so the delivery worker
reads them in one query per chunk.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Field, SQLModel

from app.models.base import JSONType, created_at_field, id_field


class SendingRules(SQLModel, table=True):
    __tablename__ = "sending_rules"

    id: int | None = id_field()
    # {"start": "21:00", "end": "08:00", "weekdays": [0..6] | null}, or null for none.
    quiet_hours: dict[str, Any] | None = Field(default=None, sa_type=JSONType, nullable=True)
    caps: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSONType, nullable=False)
    # {scenario id (as text): "transactional" | "lifecycle" | "promotional"}
    priority: dict[str, str] = Field(default_factory=dict, sa_type=JSONType, nullable=False)
    updated_at: datetime = created_at_field()
