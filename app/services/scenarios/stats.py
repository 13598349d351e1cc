"""Block counters of a scenario version, computed from the step log (the source of truth).

A graph has no cycles, so an enrollment visits a block at most once: ``entered`` is the number
of distinct enrollments with a step at the block. Outcomes are counted as written by the engine;
``waiting`` is who is parked on the block now. The hot copy in Redis (engine issue) is checked
against this.

Counters are per version and never added across versions (CONTRACTS-2 §B): two versions may
give one block id different places in different graphs, and a contact still travelling on
version 1 is not on version 2's graph. ``version_summaries`` says how many each version holds.
"""

from __future__ import annotations

from pydantic import BaseModel, Field
from sqlalchemy import distinct, func
from sqlmodel import Session, col, select

from app.i18n import _
from app.models import (
    Enrollment,
    EnrollmentState,
    OutboxMessage,
    Scenario,
    ScenarioVersion,
    StepLog,
    StepOutcome,
)
from app.services.errors import NotFound

OUTCOMES = ("yes", "no", "completed", "failed", "skipped")


class BlockCounters(BaseModel):
    entered: int = 0
    waiting: int = 0
    yes: int = 0
    no: int = 0
    completed: int = 0
    failed: int = 0
    skipped: int = 0
    # Sends held back by the sending rules (quiet hours, caps), each counted once.
    deferred: int = 0


class VersionSummary(BaseModel):
    entered: int = Field(default=0, description="Contacts who travelled on this version.")
    active: int = Field(default=0, description="Contacts still on this version now.")


class ScenarioStats(BaseModel):
    version: int | None
    nodes: dict[str, BlockCounters]
    versions: dict[int, VersionSummary] = Field(
        default_factory=dict, description="Every version of the scenario, by number."
    )


LIVE = (EnrollmentState.active.value, EnrollmentState.waiting.value)


def find_version(
    session: Session, scenario: Scenario, number: int | None
) -> ScenarioVersion | None:
    """Version ``number`` of the scenario, or its live one (None before the first activation)
    when no number is given; an unknown number is refused."""
    wanted = scenario.live_version if number is None else number
    if wanted is None:
        return None
    found = session.exec(
        select(ScenarioVersion).where(
            ScenarioVersion.scenario_id == scenario.id, ScenarioVersion.number == wanted
        )
    ).first()
    if found is None:
        raise NotFound(_("This scenario has no version %(version)s.") % {"version": wanted})
    return found


def _numbers(session: Session, scenario_id: int) -> dict[int, int]:
    """Each version's number by its id."""
    rows = session.exec(
        select(ScenarioVersion.id, ScenarioVersion.number).where(
            ScenarioVersion.scenario_id == scenario_id
        )
    ).all()
    return {version_id: number for version_id, number in rows if version_id is not None}


def still_active(
    session: Session, scenario_id: int, numbers: dict[int, int] | None = None
) -> dict[int, int]:
    """How many contacts each version holds now (journeys not ended), by version number; one
    grouped query, cheap enough for every live snapshot."""
    numbers = _numbers(session, scenario_id) if numbers is None else numbers
    active = dict.fromkeys(sorted(numbers.values()), 0)
    rows = session.exec(
        select(Enrollment.version_id, func.count())
        .where(Enrollment.scenario_id == scenario_id, col(Enrollment.state).in_(LIVE))
        .group_by(col(Enrollment.version_id))
    ).all()
    for version_id, count in rows:
        if version_id in numbers:
            active[numbers[version_id]] = count
    return active


def version_summaries(session: Session, scenario_id: int) -> dict[int, VersionSummary]:
    """Each version's contacts in two grouped queries, whatever the number of versions.

    ``entered`` reads the step log, so a contact moved to a newer version by a publish still
    counts where it travelled before; ``active`` reads where journeys stand now.
    """
    numbers = _numbers(session, scenario_id)
    summaries = {
        number: VersionSummary(active=count)
        for number, count in still_active(session, scenario_id, numbers).items()
    }
    entered = session.exec(
        select(StepLog.version_id, func.count(distinct(col(StepLog.enrollment_id))))
        .where(StepLog.scenario_id == scenario_id)
        .group_by(col(StepLog.version_id))
    ).all()
    for version_id, count in entered:
        if version_id in numbers:
            summaries[numbers[version_id]].entered = count
    return summaries


def scenario_stats(session: Session, scenario: Scenario, number: int | None) -> ScenarioStats:
    """One version's block counters (the live one by default) and every version's summary."""
    stats = version_stats(session, find_version(session, scenario, number))
    stats.versions = version_summaries(session, scenario.id or 0)
    return stats


def version_stats(session: Session, version: ScenarioVersion | None) -> ScenarioStats:
    if version is None:
        return ScenarioStats(version=None, nodes={})
    nodes = {node_id: BlockCounters() for node_id in version.plan.get("blocks", {})}
    # The scenario leads the step log's statistics index; the version alone has none.
    steps = (StepLog.scenario_id == version.scenario_id, StepLog.version_id == version.id)

    # A goal can pull out a contact that had not started the block it was due at.
    entered = session.exec(
        select(StepLog.node_id, func.count(distinct(col(StepLog.enrollment_id))))
        .where(*steps, col(StepLog.outcome) != StepOutcome.exited)
        .group_by(col(StepLog.node_id))
    ).all()
    for node_id, count in entered:
        nodes.setdefault(node_id, BlockCounters()).entered = count

    outcomes = session.exec(
        select(StepLog.node_id, StepLog.outcome, func.count())
        .where(*steps, col(StepLog.outcome).in_(OUTCOMES))
        .group_by(col(StepLog.node_id), col(StepLog.outcome))
    ).all()
    for node_id, outcome, count in outcomes:
        setattr(nodes.setdefault(node_id, BlockCounters()), outcome, count)

    waiting = session.exec(
        select(Enrollment.node_id, func.count())
        .where(
            Enrollment.version_id == version.id,
            col(Enrollment.state) == EnrollmentState.waiting,
            col(Enrollment.wake_at).is_not(None),  # always so while waiting: the due index
        )
        .group_by(col(Enrollment.node_id))
    ).all()
    for node_id, count in waiting:
        nodes.setdefault(node_id, BlockCounters()).waiting = count
    for node_id, count in _deferred(session, version):
        nodes.setdefault(node_id, BlockCounters()).deferred = count
    return ScenarioStats(version=version.number, nodes=nodes)


def _deferred(session: Session, version: ScenarioVersion) -> list[tuple[str, int]]:
    """Sends the sending rules held back at each block (the outbox row keeps its first hold,
    so a send held twice counts once)."""
    rows = session.exec(
        select(OutboxMessage.node_id, func.count())
        .join(Enrollment, col(Enrollment.id) == col(OutboxMessage.enrollment_id))
        .where(
            OutboxMessage.scenario_id == version.scenario_id,
            Enrollment.version_id == version.id,
            col(OutboxMessage.held_since).is_not(None),
        )
        .group_by(col(OutboxMessage.node_id))
    ).all()
    return [(str(node_id), count) for node_id, count in rows if node_id]
