"""The outbox: every side effect that leaves Parcours is written here first.

The engine adds rows in bulk, in the same transaction as the step that decided them; the
delivery worker (``worker/delivery/``) performs them later. A row's ``idempotency_key`` —
``"{enrollment}:{block}:{step}"`` for scenario steps — is unique, so a step that runs twice
(a retry, a crash before commit) adds nothing the second time.

Payload by channel (the contract between the engine and delivery):
- ``email`` / ``sms``: ``{"message": <template key>, "event": <trigger event properties>}``;
  rendered at send time with the contact as it is then, and consent is checked then.
- ``notify``: ``{"to": <address>, "message": <text template>, "event": {...}}`` (team alert).
- ``webhook``: ``{"url", "method", "body": <template or null>, "event": {...}}``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from sqlmodel import Session, SQLModel

from app.bulk import insert_missing_rows
from app.models import OutboxStatus

OutboxChannel = Literal["email", "sms", "notify", "webhook"]
OUTBOX = SQLModel.metadata.tables["outbox"]


def step_key(enrollment_id: int, node_id: str, seq: int) -> str:
    return f"{enrollment_id}:{node_id}:{seq}"


@dataclass(frozen=True)
class OutboxEntry:
    idempotency_key: str
    channel: OutboxChannel
    contact_id: int | None
    payload: dict[str, Any] = field(default_factory=dict)
    scenario_id: int | None = None
    enrollment_id: int | None = None
    node_id: str | None = None


def add_to_outbox(session: Session, entries: list[OutboxEntry], now: datetime) -> set[str]:
    """Inserts the entries whose key is new, in one statement; returns the keys that were new."""
    if not entries:
        return set()
    rows = [
        {
            "idempotency_key": e.idempotency_key,
            "channel": e.channel,
            "contact_id": e.contact_id,
            "scenario_id": e.scenario_id,
            "enrollment_id": e.enrollment_id,
            "node_id": e.node_id,
            "payload": e.payload,
            "status": OutboxStatus.pending.value,
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
        for e in entries
    ]
    added = insert_missing_rows(
        session, OUTBOX, rows, unique=["idempotency_key"], returning=["idempotency_key"]
    )
    return {key for (key,) in added}
