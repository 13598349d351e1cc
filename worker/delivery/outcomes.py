"""What became of one outbox row, and how it is written back."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from app.services.messaging.refusals import Bounce

Kind = Literal["sent", "retry", "failed", "skipped"]


@dataclass
class Outcome:
    row_id: int
    kind: Kind
    reason: str | None = None
    # Written with the outcome, in the same transaction: the mailbox copy of the message.
    mailbox: dict[str, Any] | None = field(default=None, repr=False)
    # A refusal about the recipient's address (refusals.py), that address and the server's
    # words: written to the contact with the outcome (app/services/messaging/bounces.py).
    bounce: Bounce | None = None
    address: str | None = None
    reply: str | None = None


def sent(row_id: int, mailbox: dict[str, Any] | None = None) -> Outcome:
    return Outcome(row_id, "sent", mailbox=mailbox)


def retry(row_id: int, reason: str) -> Outcome:
    return Outcome(row_id, "retry", reason)


def failed(row_id: int, reason: str) -> Outcome:
    return Outcome(row_id, "failed", reason)


def skipped(row_id: int, reason: str) -> Outcome:
    return Outcome(row_id, "skipped", reason)
