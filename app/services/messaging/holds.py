"""Sends the sending rules held back, as the journey page tells them (CONTRACTS-2 §D).

A held send keeps, on its outbox row, why it waits (``held``: a phrase with its English text,
when it was held and until when; ``worker/delivery/pacing.py``): "held until 08:00: quiet
hours", "held: at most 3 marketing emails per 7 days", and once it was given up on, "not
sent: over the frequency cap". One query for all of a contact's journeys.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session, col, select

from app.models import OutboxMessage, OutboxStatus


@dataclass(frozen=True)
class Held:
    enrollment_id: int
    node_id: str
    at: datetime
    outcome: str  # "deferred" while it waits (or once sent), "skipped" when given up on
    detail: dict[str, Any]


def holds(session: Session, enrollment_ids: Iterable[int]) -> dict[int, list[Held]]:
    """Each journey's held sends, by enrollment, in the order they were queued."""
    ids = [i for i in enrollment_ids if i is not None]
    if not ids:
        return {}
    rows = session.exec(
        select(OutboxMessage)
        .where(col(OutboxMessage.enrollment_id).in_(ids), col(OutboxMessage.held).is_not(None))
        .order_by(col(OutboxMessage.id))
    ).all()
    found: dict[int, list[Held]] = {}
    for row in rows:
        if row.enrollment_id is None or not row.node_id or not isinstance(row.held, dict):
            continue
        skipped = row.status == OutboxStatus.skipped
        found.setdefault(row.enrollment_id, []).append(
            Held(
                row.enrollment_id,
                row.node_id,
                _moment(row.held.get("at")) or row.created_at,
                "skipped" if skipped else "deferred",
                row.held,
            )
        )
    return found


def _moment(text: object) -> datetime | None:
    try:
        found = datetime.fromisoformat(str(text))
    except ValueError:
        return None
    return found if found.tzinfo else found.replace(tzinfo=UTC)
