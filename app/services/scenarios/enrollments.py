"""Putting contacts into scenarios, in bulk, under the scenario's re-entry rules.

Shared by the trigger matcher (worker), the anniversary scheduler and manual enrollment (API):
all of them produce :class:`Candidate` entries and call :func:`enroll`.

Re-entry rules (``settings.reentry``), for one scenario and one contact — and, when the trigger
names an instance key (e.g. ``cart_id``), for that instance only:
- ``once``: never again once the contact has entered.
- ``after_exit``: again once the previous journey has ended (completed, exited or failed).
- ``always``: every time; with an instance key, not while a journey for the same instance is
  still under way (one abandoned-cart journey per cart).
- ``cooldown_seconds``: in addition, not within that time of the previous entry.
``unique_instance`` candidates (anniversaries: one per year) never enter twice for the same key.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session, SQLModel

from app.bulk import among, insert_rows, is_postgres
from app.graph import Plan
from app.models import EnrollmentState

ENROLLMENTS = SQLModel.metadata.tables["enrollments"]
# PostgreSQL advisory locks, one per share of the contacts (contact id modulo SHARES): a
# transaction that admits or matches a contact holds its share's lock until it commits, so
# two never handle the same contact side by side, and workers spread over the shares.
ADVISORY_CONTACT_SHARE = 7_212
SHARES = 16


def share_of(contact_id: int) -> int:
    return contact_id % SHARES


def lock_shares(session: Session, contact_ids: Iterable[int]) -> None:
    """Waits for (and holds until commit) the locks of the shares these contacts are in, in
    share order. A transaction that holds one already takes it again at once."""
    for share in sorted({share_of(c) for c in contact_ids}):
        session.execute(select(func.pg_advisory_xact_lock(ADVISORY_CONTACT_SHARE, share)))


def try_share(session: Session, share: int) -> bool:
    """Takes a share's lock unless another transaction holds it."""
    query = select(func.pg_try_advisory_xact_lock(ADVISORY_CONTACT_SHARE, share))
    return bool(session.execute(query).scalar_one())


LIVE_STATES = (EnrollmentState.active.value, EnrollmentState.waiting.value)


@dataclass(slots=True)  # not frozen: a chunk builds thousands, and frozen ones build slowly
class Candidate:
    scenario_id: int
    version_id: int
    trigger_node: str
    contact_id: int
    context: dict[str, Any] = field(default_factory=dict)
    instance_key: str | None = None
    unique_instance: bool = False
    # The event that fired the trigger and when it happened: awaited events and goals count
    # from there (DESIGN §5, "event time").
    event_id: int | None = None
    event_at: datetime | None = None


@dataclass
class _History:
    entered: list[tuple[str | None, str, datetime]] = field(default_factory=list)

    def allows(self, candidate: Candidate, plan: Plan, now: datetime) -> bool:
        settings = plan.settings
        key = candidate.instance_key
        same = [(state, at) for k, state, at in self.entered if key is None or k == key]
        if candidate.unique_instance and same:
            return False
        if settings.cooldown_seconds and any(
            at > now - timedelta(seconds=settings.cooldown_seconds) for _, _, at in self.entered
        ):
            return False
        if settings.reentry == "once":
            return not same
        if settings.reentry == "after_exit" or key is not None:
            return all(state not in LIVE_STATES for state, _ in same)
        return True


def enroll(
    session: Session, candidates: Iterable[Candidate], plans: dict[int, Plan], now: datetime
) -> list[Candidate]:
    """Creates the enrollments the rules allow (at their trigger block, due now) in one INSERT.

    ``plans`` maps version id to its plan. Returns the candidates that entered.
    """
    accepted = admit(session, candidates, plans, now)
    insert_rows(
        session,
        ENROLLMENTS,
        [
            {
                "scenario_id": c.scenario_id,
                "version_id": c.version_id,
                "contact_id": c.contact_id,
                "node_id": c.trigger_node,
                "state": EnrollmentState.active.value,
                "wake_at": now,
                "seq": 0,
                "instance_key": c.instance_key,
                "context": c.context,
                "attempts": 0,
                "entered_at": now,
                "updated_at": now,
                "trigger_at": c.event_at or now,
                "trigger_event_id": c.event_id,
            }
            for c in accepted
        ],
    )
    return accepted


def admit(
    session: Session, candidates: Iterable[Candidate], plans: dict[int, Plan], now: datetime
) -> list[Candidate]:
    """The candidates the rules let in, in order; the caller writes their enrollments in this
    transaction (on PostgreSQL it holds the share locks of these contacts until it commits)."""
    wanted = list(candidates)
    ruled = [c for c in wanted if _has_rules(c, plans[c.version_id])]
    history: dict[tuple[int, int], _History] = defaultdict(_History)
    if ruled:
        history.update(_histories(session, ruled))
    accepted: list[Candidate] = []
    for candidate in wanted:
        if not _has_rules(candidate, plans[candidate.version_id]):
            accepted.append(candidate)
            continue
        past = history[(candidate.scenario_id, candidate.contact_id)]
        if not past.allows(candidate, plans[candidate.version_id], now):
            continue
        accepted.append(candidate)
        # Later candidates of the same batch see this entry.
        past.entered.append((candidate.instance_key, EnrollmentState.active.value, now))
    return accepted


def _has_rules(candidate: Candidate, plan: Plan) -> bool:
    """Whether letting this candidate in depends on the contact's earlier journeys: not for a
    scenario that lets everyone in every time (no instance key, no cooldown)."""
    settings = plan.settings
    return (
        settings.reentry != "always"
        or bool(settings.cooldown_seconds)
        or candidate.instance_key is not None
        or candidate.unique_instance
    )


def _histories(session: Session, ruled: list[Candidate]) -> dict[tuple[int, int], _History]:
    pairs = {(c.scenario_id, c.contact_id) for c in ruled}
    if is_postgres(session):
        # The rules are read, then applied: one transaction at a time for a given contact, or
        # two workers (the matcher, the segment check, a manual enrollment) could both let it
        # in. By share of the contacts, not by scenario: workers do not queue on one lock.
        lock_shares(session, {c.contact_id for c in ruled})
    history: dict[tuple[int, int], _History] = defaultdict(_History)
    rows = session.execute(
        select(
            ENROLLMENTS.c.scenario_id,
            ENROLLMENTS.c.contact_id,
            ENROLLMENTS.c.instance_key,
            ENROLLMENTS.c.state,
            ENROLLMENTS.c.entered_at,
        ).where(
            # A superset of the pairs (every scenario x every contact); the dict keeps the pairs.
            among(session, ENROLLMENTS.c.scenario_id, {s for s, _ in pairs}),
            among(session, ENROLLMENTS.c.contact_id, {c for _, c in pairs}),
        )
    )
    for scenario_id, contact_id, key, state, entered_at in rows:
        history[(scenario_id, contact_id)].entered.append((key, state, entered_at))
    return history


def enroll_manually(
    session: Session,
    *,
    scenario_id: int,
    version_id: int,
    plan: Plan,
    contact_ids: list[int],
    now: datetime,
) -> list[Candidate]:
    """Enters the given contacts through the scenario's manual entry point."""
    entry = plan.triggers.manual[0]
    candidates = [
        Candidate(scenario_id, version_id, entry, contact_id, {"source": "manual"})
        for contact_id in dict.fromkeys(contact_ids)
    ]
    return enroll(session, candidates, {version_id: plan}, now)
