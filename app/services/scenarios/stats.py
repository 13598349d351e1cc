"""Block counters of a scenario version, computed from the step log (the source of truth).

A graph has no cycles, so an enrollment visits a block at most once: ``entered`` is the number
of distinct enrollments with a step at the block. Outcomes are counted as written by the engine;
``waiting`` is who is parked on the block now. The hot copy in Redis (engine issue) is checked
against this.
"""

from __future__ import annotations

from pydantic import BaseModel
from sqlalchemy import distinct, func
from sqlmodel import Session, col, select

from app.models import Enrollment, EnrollmentState, ScenarioVersion, StepLog, StepOutcome

OUTCOMES = ("yes", "no", "completed", "failed", "skipped")


class BlockCounters(BaseModel):
    entered: int = 0
    waiting: int = 0
    yes: int = 0
    no: int = 0
    completed: int = 0
    failed: int = 0
    skipped: int = 0


class ScenarioStats(BaseModel):
    version: int | None
    nodes: dict[str, BlockCounters]


def version_stats(session: Session, version: ScenarioVersion | None) -> ScenarioStats:
    if version is None:
        return ScenarioStats(version=None, nodes={})
    nodes = {node_id: BlockCounters() for node_id in version.plan.get("blocks", {})}

    # A goal can pull out a contact that had not started the block it was due at.
    entered = session.exec(
        select(StepLog.node_id, func.count(distinct(col(StepLog.enrollment_id))))
        .where(StepLog.version_id == version.id, col(StepLog.outcome) != StepOutcome.exited)
        .group_by(col(StepLog.node_id))
    ).all()
    for node_id, count in entered:
        nodes.setdefault(node_id, BlockCounters()).entered = count

    outcomes = session.exec(
        select(StepLog.node_id, StepLog.outcome, func.count())
        .where(StepLog.version_id == version.id, col(StepLog.outcome).in_(OUTCOMES))
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
    return ScenarioStats(version=version.number, nodes=nodes)
