"""New events in, journeys out: trigger matching, waits that resume, goals reached.

Events — those tracked through the API and the system ones that record contact changes
(``contact_created``, ``list_added``, ``list_removed``, ``attribute_changed``,
``score_changed``) — are taken in id order, a batch at a time, and each batch is handled in
one transaction that also marks it processed: an event is matched exactly once, and the same
event delivered twice was already stored once.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlmodel import Session, SQLModel

from app.bulk import among, new_ids
from app.graph import Plan, matches_properties
from app.graph.document import ExitOnEvent
from app.models import EnrollmentState
from app.services.enrollments import Candidate, admit
from worker.engine.advance import run_journeys
from worker.engine.book import Book, CounterKey
from worker.engine.plans import LiveScenario, Plans, events_heard
from worker.engine.visit import Visit

EVENTS = SQLModel.metadata.tables["events"]
ENROLLMENTS = SQLModel.metadata.tables["enrollments"]
LIVE_STATES = (EnrollmentState.active.value, EnrollmentState.waiting.value)
BATCH_SIZE = 2000


@dataclass
class MatchReport:
    events: int = 0
    entered: int = 0
    resumed: int = 0
    exited: int = 0
    steps: int = 0
    outbox: int = 0
    events_to_match: int = 0
    counters: Counter[CounterKey] = field(default_factory=Counter)

    def add(self, book: Book) -> None:
        self.steps += len(book.steps)
        self.outbox += len(book.outbox)
        self.events_to_match += book.events_to_match
        self.counters.update(book.counters)


def claim_events(
    session: Session, now: datetime, limit: int, lane: tuple[int, int] = (0, 1)
) -> list[Any]:
    """The oldest events not yet matched, marked matched in the same statement (the batch's
    transaction either handles them all or leaves them all for the next run).

    ``lane`` = (this lane, lanes): a worker's lanes split the events by contact, so one
    contact's events are matched in order, one batch after the other (a goal event is never
    matched beside the entry it should end, in a transaction that cannot see it yet)."""
    pending = (
        select(EVENTS.c.id)
        .where(EVENTS.c.processed_at.is_(None))
        .order_by(EVENTS.c.id)
        .limit(limit)
    )
    index, lanes = lane
    if lanes > 1:
        pending = pending.where(EVENTS.c.contact_id % lanes == index)
    if session.get_bind().dialect.name == "postgresql":
        pending = pending.with_for_update(skip_locked=True)
    claimed = session.execute(
        update(EVENTS)
        .where(EVENTS.c.id.in_(pending.scalar_subquery()))
        .values(processed_at=now)
        .returning(EVENTS.c.id, EVENTS.c.contact_id, EVENTS.c.name, EVENTS.c.properties,
                   EVENTS.c.occurred_at)
    )  # fmt: skip
    return sorted(claimed, key=lambda event: event.id)


def match_events(
    session: Session,
    plans: Plans,
    now: datetime,
    limit: int = BATCH_SIZE,
    lane: tuple[int, int] = (0, 1),
) -> MatchReport | None:
    """Handles one batch of new events in the caller's transaction; None when there are none.

    Contacts who enter run their first steps at once, in this same transaction (see
    ``start_journeys``): the welcome email is on its way when the signup is matched.
    """
    events = claim_events(session, now, limit, lane)
    if not events:
        return None
    live = plans.live(session)
    report = MatchReport(events=len(events))
    published = plans.published(session)
    heard = events_heard(published.values())
    plan_of = {s.version_id: s.plan for s in live}
    # The rules read the journeys as they were before this batch, goals included.
    admitted = admit(session, _candidates(events, live, now), plan_of, now)
    goals = _goal_events(published)
    report.exited = _reach_event_goals(session, goals, events, Book(now, heard), now, report)
    report.resumed = _resume_waits(session, plans, events, now)
    if admitted:
        book = Book(now, heard)
        entered = [Visit.entering(i, c, now) for i, c in zip(
            new_ids(session, ENROLLMENTS, len(admitted)), admitted, strict=True
        )]  # fmt: skip
        start_journeys(session, entered, admitted, events, plan_of, goals, book, now)
        report.entered = len(entered)
        report.resumed += sum(1 for v in entered if v.wake_port == "yes")
        report.add(book)
    return report


def start_journeys(
    session: Session,
    entered: list[Visit],
    admitted: list[Candidate],
    events: list[Any],
    plan_of: dict[int, Plan],
    goals: dict[int, str],
    book: Book,
    now: datetime,
) -> None:
    """New journeys run until they park or end, and are written once, where they stopped.

    Events after the one a contact entered by still count for them: their goal event (in this
    batch, or already matched by another worker) pulls them out before the first step, and an
    awaited event later in this batch sets the wait they park on to leave by YES.
    """
    later = _events_after(events)
    reached = _goals_since(session, entered, admitted, goals)
    moving = []
    for visit, candidate in zip(entered, admitted, strict=True):
        if visit.id in reached:
            book.exit(visit, _goal_reached(goals[visit.version_id]))
        else:
            moving.append((visit, candidate.event_id or 0))
    run_journeys(session, [visit for visit, _ in moving], plan_of, book, now)
    for visit, since in moving:
        if visit.wait_event is None or visit.wake_port != "no":
            continue
        match_key = _config(plan_of[visit.version_id], visit.node_id).match_key
        if any(
            name == visit.wait_event and _awaited(properties, match_key, visit.wait_key)
            for name, properties in later(visit.contact_id, since)
        ):
            visit.wake_port, visit.wake_at = "yes", now
    book.write(session, entered=entered)


def _goals_since(
    session: Session, entered: list[Visit], admitted: list[Candidate], goals: dict[int, str]
) -> set[int]:
    """New enrollments whose goal event came after the event that let them in: in this batch
    or in one another worker is matching right now (read from the table, not the batch)."""
    since = {
        visit.id: candidate.event_id
        for visit, candidate in zip(entered, admitted, strict=True)
        if visit.version_id in goals and candidate.event_id is not None
    }
    if not since:
        return set()
    wanted = [v for v in entered if v.id in since]
    rows = session.execute(
        select(EVENTS.c.contact_id, EVENTS.c.id, EVENTS.c.name).where(
            among(session, EVENTS.c.contact_id, {v.contact_id for v in wanted}),
            among(session, EVENTS.c.name, {goals[v.version_id] for v in wanted}),
            EVENTS.c.id > min(since.values()),
        )
    ).all()
    done: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for contact_id, event_id, name in rows:
        done[contact_id].append((event_id, name))
    return {
        v.id
        for v in wanted
        if any(
            name == goals[v.version_id] and event_id > since[v.id]
            for event_id, name in done[v.contact_id]
        )
    }


def _events_after(events: list[Any]) -> Any:
    by_contact: dict[int, list[Any]] | None = None  # grouped on first use: rarely needed

    def later(contact_id: int, since: int) -> list[tuple[str, dict[str, Any]]]:
        nonlocal by_contact
        if by_contact is None:
            by_contact = defaultdict(list)
            for event in events:
                by_contact[event.contact_id].append(event)
        return [(e.name, e.properties or {}) for e in by_contact[contact_id] if e.id > since]

    return later


def _awaited(properties: dict[str, Any], match_key: str | None, wait_key: str | None) -> bool:
    """Whether an event of the awaited name is the one a wait expects (same cart id …)."""
    value = properties.get(match_key) if match_key else None
    return wait_key is None or (value is not None and str(value) == wait_key)


def _candidates(events: list[Any], live: list[LiveScenario], now: datetime) -> list[Candidate]:
    found: list[Candidate] = []
    for event in events:
        props = event.properties or {}
        for scenario in live:
            for node_id, instance in _fired(scenario.plan, event.name, props, now):
                found.append(
                    Candidate(
                        scenario_id=scenario.scenario_id,
                        version_id=scenario.version_id,
                        trigger_node=node_id,
                        contact_id=event.contact_id,
                        context=props,
                        instance_key=instance,
                        event_id=event.id,
                    )
                )
    return found


def _fired(
    plan: Plan, name: str, props: dict[str, Any], now: datetime
) -> list[tuple[str, str | None]]:
    """The trigger blocks of ``plan`` this event fires, with the instance each one names."""
    index = plan.triggers
    fired: list[tuple[str, str | None]] = []
    for node_id in index.events.get(name, []):
        config = _config(plan, node_id)
        if config.where is not None and not matches_properties(config.where, props, now):
            continue
        instance = props.get(config.key) if config.key else None
        fired.append((node_id, None if instance is None else str(instance)))
    if name == "contact_created":
        fired += [(node_id, None) for node_id in index.contact_created]
    elif name in ("list_added", "list_removed"):
        by_list = index.list_added if name == "list_added" else index.list_removed
        fired += [(node_id, None) for node_id in by_list.get(str(props.get("list")), [])]
    elif name == "attribute_changed":
        for node_id in index.attribute_changed.get(str(props.get("attribute")), []):
            wanted = _config(plan, node_id).to
            if wanted is None or props.get("to") == wanted:
                fired.append((node_id, None))
    elif name == "score_changed":
        before, after = props.get("from"), props.get("to")
        for node_id in index.score_reached:
            threshold = _config(plan, node_id).threshold
            if isinstance(before, int) and isinstance(after, int) and before < threshold <= after:
                fired.append((node_id, None))
    return fired


def _config(plan: Plan, node_id: str) -> Any:
    return plan.block(node_id).config


def _resume_waits(session: Session, plans: Plans, events: list[Any], now: datetime) -> int:
    """Enrollments waiting for one of these events switch to their YES port, due now."""
    names = {e.name for e in events}
    contacts = {e.contact_id for e in events}
    query = select(ENROLLMENTS).where(
        ENROLLMENTS.c.state == EnrollmentState.waiting.value,
        ENROLLMENTS.c.wake_port == "no",
        among(session, ENROLLMENTS.c.wait_event, names),
        among(session, ENROLLMENTS.c.contact_id, contacts),
    )
    waiting = list(session.execute(query))
    if not waiting:
        return 0
    by_contact: dict[tuple[int, str], list[Any]] = defaultdict(list)
    for event in events:
        by_contact[(event.contact_id, event.name)].append(event)
    plan_of = plans.many(session, {row.version_id for row in waiting})
    resumed = []
    for row in waiting:
        match_key = _config(plan_of[row.version_id], row.node_id).match_key
        for event in by_contact.get((row.contact_id, row.wait_event), []):
            # Only what happens after the contact started waiting counts.
            if event.occurred_at < row.updated_at:
                continue
            if _awaited(event.properties or {}, match_key, row.wait_key):
                resumed.append({"b_id": row.id, "b_seq": row.seq})
                break
    if resumed:
        session.execute(
            update(ENROLLMENTS)
            .where(ENROLLMENTS.c.id == bindparam("b_id"), ENROLLMENTS.c.seq == bindparam("b_seq"))
            .values(wake_port="yes", wake_at=now, updated_at=now),
            resumed,
        )
    return len(resumed)


def _goal_events(published: dict[int, Plan]) -> dict[int, str]:
    """Version id -> the event that is its goal, for every version that has one."""
    return {
        version_id: plan.settings.exit_when.event
        for version_id, plan in published.items()
        if isinstance(plan.settings.exit_when, ExitOnEvent)
    }


def _goal_reached(goal: str) -> dict[str, Any]:
    return {"text": f"{goal} happened: goal reached"}


def _reach_event_goals(
    session: Session,
    goals: dict[int, str],
    events: list[Any],
    book: Book,
    now: datetime,
    report: MatchReport,
) -> int:
    """Contacts who have just done their scenario's goal event leave it — by the goal of the
    version each one is on, paused scenarios included."""
    if not goals:
        return 0
    done: dict[int, set[str]] = defaultdict(set)
    for event in events:
        done[event.contact_id].add(event.name)
    query = select(ENROLLMENTS).where(
        among(session, ENROLLMENTS.c.version_id, goals),
        among(session, ENROLLMENTS.c.contact_id, done),
        ENROLLMENTS.c.state.in_(LIVE_STATES),
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    visits = [
        Visit.from_row(row)
        for row in session.execute(query)
        if goals[row.version_id] in done[row.contact_id]
    ]
    for visit in visits:
        book.exit(visit, _goal_reached(goals[visit.version_id]))
    book.write(session, moved=visits)
    report.add(book)
    return len(visits)
