"""Advancing a chunk of due enrollments: claim, run the blocks round by round, write once.

A round takes every enrollment of the chunk that has a step to run, groups them by
(version, block) and runs each group's step once for all of them; enrollments that leave by a
port move to the next block and take part in the next round, until every one of them is parked
on a delay, ended, or set to retry. Then the chunk's writes go to the database in one
transaction (see ``book.py``). Nothing is done per contact in SQL.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Select, select
from sqlmodel import Session, SQLModel

from app.bulk import among
from app.graph import Plan
from app.graph.conditions import Condition
from app.graph.document import ExitOnEvent
from app.i18n import say, say_n
from app.models import EnrollmentState, ScenarioStatus, StepOutcome
from app.services.contacts.facts import explain_chunk
from worker.engine.book import Book, CounterKey
from worker.engine.plans import Plans
from worker.engine.steps import EXECUTORS
from worker.engine.steps.group import ChunkData, Group
from worker.engine.visit import COMPLETED, Visit

ENROLLMENTS = SQLModel.metadata.tables["enrollments"]
SCENARIOS = SQLModel.metadata.tables["scenarios"]
CHUNK_SIZE = 2000
MAX_ATTEMPTS = 5
MAX_ROUNDS = 500  # a graph has no cycles, so a journey has fewer steps than blocks


def retry_delay(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min, 4 min … between tries of a failing step."""
    return timedelta(seconds=min(3600, 30 * 2 ** max(0, attempts - 1)))


@dataclass
class ChunkReport:
    claimed: int = 0
    steps: int = 0
    outbox: int = 0
    events_to_match: int = 0
    counters: dict[CounterKey, int] = field(default_factory=dict)

    @classmethod
    def of(cls, book: Book, claimed: int) -> ChunkReport:
        return cls(
            claimed=claimed,
            steps=len(book.steps),
            outbox=len(book.outbox),
            events_to_match=book.events_to_match,
            counters=dict(book.counters),
        )


def due(connection: Session | Connection, now: datetime) -> Select[Any]:
    """Enrollments whose time has come, in order, outside paused (and archived) scenarios: their
    journeys stay where they are, as the history shows them. Only the due index
    can serve it (a journey under way has a wake_at, an ended one none), so with a million
    journeys parked it reads just what it returns; a filter the scenario index could serve
    instead had the planner sort them all."""
    query = (
        select(ENROLLMENTS)
        .where(ENROLLMENTS.c.wake_at <= now)
        .order_by(ENROLLMENTS.c.wake_at, ENROLLMENTS.c.id)
    )
    paused = select(SCENARIOS.c.id).where(
        (SCENARIOS.c.status != ScenarioStatus.active.value) | SCENARIOS.c.archived_at.is_not(None)
    )
    paused_ids = list(connection.execute(paused).scalars())
    if paused_ids:
        query = query.where(ENROLLMENTS.c.scenario_id.not_in(paused_ids))
    return query


def claim_due(
    session: Session, now: datetime, limit: int, only: list[int] | None = None
) -> list[Visit]:
    query = due(session, now).limit(limit)
    if only is not None:
        query = query.where(among(session, ENROLLMENTS.c.id, only))
    if session.get_bind().dialect.name == "postgresql":
        # Two workers never take the same enrollments (SQLite runs one writer at a time).
        query = query.with_for_update(of=ENROLLMENTS, skip_locked=True)
    return [Visit.from_row(row) for row in session.execute(query)]


def advance_chunk(
    session: Session,
    plans: Plans,
    now: datetime,
    limit: int = CHUNK_SIZE,
    *,
    only: list[int] | None = None,
    max_rounds: int = MAX_ROUNDS,
) -> ChunkReport | None:
    """Runs one chunk in the caller's transaction; None when nothing is due.

    ``only`` and ``max_rounds`` exist for the benchmark's one-step-per-job baseline.
    """
    visits = claim_due(session, now, limit, only)
    if not visits:
        return None
    plan_of = plans.many(session, {v.version_id for v in visits})
    book = Book(now, plans.events_heard(session))
    run_journeys(session, visits, plan_of, book, now, max_rounds)
    book.write(session, moved=visits)
    return ChunkReport.of(book, claimed=len(visits))


def run_journeys(
    session: Session,
    visits: list[Visit],
    plan_of: dict[int, Plan],
    book: Book,
    now: datetime,
    max_rounds: int = MAX_ROUNDS,
) -> None:
    """Moves the visits block by block until each is parked, ended or retrying later; the
    writes wait in ``book``."""
    # Only a chunk that may change attributes from their current values locks its contacts;
    # scores and lists are changed by statements that read and write at once.
    changes_attributes = any(
        block.type == "action" and block.kind == "update_attribute"
        for version_id in {v.version_id for v in visits}
        for block in plan_of[version_id].blocks.values()
    )
    chunk = ChunkData(session, {v.contact_id for v in visits}, lock=changes_attributes)
    moving = _apply_goals(session, visits, plan_of, book, now)
    for _ in range(max_rounds):
        if not moving:
            break
        groups: dict[tuple[int, str], list[Visit]] = defaultdict(list)
        for visit in moving:
            groups[(visit.version_id, visit.node_id)].append(visit)
        for (version_id, node_id), members in groups.items():
            plan = plan_of[version_id]
            _run_group(Group(session, plan, plan.block(node_id), members, book, chunk, now))
        moving = _follow_ports(moving, plan_of, now)


def _run_group(group: Group) -> None:
    book = group.book
    mark = book.mark()
    snapshots = [visit.snapshot() for visit in group.visits]
    try:
        # A savepoint: on PostgreSQL a failed query would otherwise abort the whole chunk.
        with group.session.begin_nested():
            EXECUTORS[(group.block.type, group.block.kind)](group)
    except Exception as exc:  # one block's failure must not stop the rest of the chunk
        book.rollback(mark)
        for visit, snapshot in zip(group.visits, snapshots, strict=True):
            visit.restore(snapshot)
            _retry_or_fail(group, visit, exc)


def _retry_or_fail(group: Group, visit: Visit, exc: Exception) -> None:
    visit.attempts += 1
    visit.last_error = str(exc) or exc.__class__.__name__
    if visit.attempts >= MAX_ATTEMPTS:
        group.end(
            visit,
            EnrollmentState.failed,
            StepOutcome.failed,
            {
                "text": f"failed {visit.attempts} times: {visit.last_error}",
                "say": say_n(
                    "failed %(count)s time: %(error)s",
                    "failed %(count)s times: %(error)s",
                    visit.attempts,
                    error=visit.last_error,
                ).dump(),
            },
        )
    else:
        visit.wake_at = group.now + retry_delay(visit.attempts)


def _follow_ports(moving: list[Visit], plan_of: dict[int, Plan], now: datetime) -> list[Visit]:
    still: list[Visit] = []
    for visit in moving:
        if visit.port is None:
            continue  # parked, ended, or retrying later
        successor = plan_of[visit.version_id].successor(visit.node_id, visit.port)
        visit.port, visit.waking = None, False
        visit.wait_event = visit.wait_key = visit.wake_port = None
        visit.attempts, visit.last_error = 0, None
        if successor is None:
            visit.finish(COMPLETED, now)
            continue
        visit.node_id, visit.wake_at = successor, now
        still.append(visit)
    return still


def _apply_goals(
    session: Session, visits: list[Visit], plan_of: dict[int, Plan], book: Book, now: datetime
) -> list[Visit]:
    """Contacts who reached their scenario's goal (a condition) leave before any step."""
    by_goal: dict[int, list[Visit]] = defaultdict(list)
    for visit in visits:
        goal = plan_of[visit.version_id].settings.exit_when
        if goal is not None and not isinstance(goal, ExitOnEvent):
            by_goal[visit.version_id].append(visit)
    reached: set[int] = set()
    for version_id, members in by_goal.items():
        goal_condition: Condition = plan_of[version_id].settings.exit_when  # type: ignore[assignment]
        explained = explain_chunk(session, goal_condition, [v.contact_id for v in members], now)
        for visit in members:
            explanation = explained.get(visit.contact_id)
            if explanation is not None and explanation.result:
                # The goal's own words first, the condition's explanation under them (it
                # used to overwrite them, and the statistics missed these conversions).
                detail = {
                    "text": "reached the scenario's goal",
                    "say": say("reached the scenario's goal").dump(),
                    "result": True,
                    "children": [explanation.model_dump(mode="json")],
                }
                book.exit(visit, detail)
                reached.add(visit.id)
    return [v for v in visits if v.id not in reached]
