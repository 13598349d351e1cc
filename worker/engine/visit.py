"""One enrollment as the engine moves it through a chunk."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from operator import attrgetter
from typing import Any

from app.models import EnrollmentState
from app.services.scenarios.enrollments import Candidate

# Plain strings for the states the hot paths compare and set (an enum's ``.value`` is slow).
ACTIVE = EnrollmentState.active.value
WAITING = EnrollmentState.waiting.value
COMPLETED = EnrollmentState.completed.value


MOVABLE = (
    "node_id", "state", "seq", "wait_event", "wait_key", "wake_port", "attempts", "wake_at",
    "waking", "last_error", "ended_at", "port",
)  # fmt: skip
_movable = attrgetter(*MOVABLE)


@dataclass
class Visit:
    id: int
    scenario_id: int
    version_id: int
    contact_id: int
    node_id: str
    state: str
    seq: int
    context: dict[str, Any]
    instance_key: str | None
    wait_event: str | None
    wait_key: str | None
    wake_port: str | None
    attempts: int
    wake_at: datetime | None
    # Claimed while parked on ``node_id``: its delay ends now rather than starts.
    waking: bool
    claimed_seq: int = -1
    last_error: str | None = None
    ended_at: datetime | None = None
    # Set by the block's step: leave by this port now (None: parked or ended).
    port: str | None = None
    # When the triggering event happened, and which it was: awaited events count from there.
    trigger_at: datetime | None = None
    trigger_event_id: int | None = None
    # Entering now (not read from the table): a wait it reaches counts from the trigger.
    fresh: bool = False
    # When it reached the wait it is parked on, if not as its journey began (None then).
    wait_began: datetime | None = None

    def __post_init__(self) -> None:
        self.claimed_seq = self.seq

    def finish(self, state: str, now: datetime) -> None:
        """Ends the journey: nothing to wake up for, nothing awaited."""
        self.state, self.ended_at, self.wake_at = state, now, None
        self.wait_event = self.wait_key = self.wake_port = None

    def snapshot(self) -> tuple[Any, ...]:
        """What a step may change, to undo it if the step's block fails."""
        return _movable(self)

    def restore(self, snapshot: tuple[Any, ...]) -> None:
        for name, value in zip(MOVABLE, snapshot, strict=True):
            setattr(self, name, value)

    @classmethod
    def entering(cls, enrollment_id: int, candidate: Candidate, now: datetime) -> Visit:
        """A new enrollment, at its trigger block, not yet written."""
        return cls(
            id=enrollment_id,
            scenario_id=candidate.scenario_id,
            version_id=candidate.version_id,
            contact_id=candidate.contact_id,
            node_id=candidate.trigger_node,
            state=ACTIVE,
            seq=0,
            context=candidate.context,
            instance_key=candidate.instance_key,
            wait_event=None,
            wait_key=None,
            wake_port=None,
            attempts=0,
            wake_at=now,
            waking=False,
            trigger_at=candidate.event_at or now,
            trigger_event_id=candidate.event_id,
            fresh=True,
        )

    @classmethod
    def from_row(cls, row: Any) -> Visit:
        return cls(
            id=row.id,
            scenario_id=row.scenario_id,
            version_id=row.version_id,
            contact_id=row.contact_id,
            node_id=row.node_id,
            state=row.state,
            seq=row.seq,
            context=row.context or {},
            instance_key=row.instance_key,
            wait_event=row.wait_event,
            wait_key=row.wait_key,
            wake_port=row.wake_port,
            attempts=row.attempts,
            wake_at=row.wake_at,
            waking=row.state == WAITING,
            last_error=row.last_error,
            trigger_at=row.trigger_at or row.entered_at,
            trigger_event_id=row.trigger_event_id,
            # Parked as it entered (not moved since): the wait began with the trigger.
            wait_began=None if row.updated_at == row.entered_at else row.updated_at,
        )
