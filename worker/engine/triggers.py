"""New events in, journeys out: trigger matching, waits that resume, goals reached.

Events — those tracked through the API and the system ones that record contact changes
(``contact_created``, ``list_added``, ``list_removed``, ``attribute_changed``,
``score_changed``) — are taken in id order, a batch at a time, and each batch is handled in
one transaction that also marks it processed: an event is matched exactly once, and the same
event delivered twice was already stored once.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlmodel import Session, SQLModel

from app.bulk import among
from app.graph import Plan, matches_properties
from app.graph.document import ExitOnEvent
from app.models import EnrollmentState, StepOutcome
from app.services.enrollments import Candidate, enroll
from worker.engine.book import Book, CounterKey
from worker.engine.plans import LiveScenario, Plans
from worker.engine.visit import Visit

EVENTS = SQLModel.metadata.tables["events"]
VERSIONS = SQLModel.metadata.tables["scenario_versions"]
ENROLLMENTS = SQLModel.metadata.tables["enrollments"]
LIVE_STATES = (EnrollmentState.active.value, EnrollmentState.waiting.value)
BATCH_SIZE = 2000


@dataclass
class MatchReport:
    events: int = 0
    entered: int = 0
    resumed: int = 0
    exited: int = 0
    counters: dict[CounterKey, int] = field(default_factory=dict)


def claim_events(session: Session, limit: int) -> list[Any]:
    query = (
        select(EVENTS.c.id, EVENTS.c.contact_id, EVENTS.c.name, EVENTS.c.properties,
               EVENTS.c.occurred_at)
        .where(EVENTS.c.processed_at.is_(None))
        .order_by(EVENTS.c.id)
        .limit(limit)
    )  # fmt: skip
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return list(session.execute(query))


def match_events(
    session: Session, plans: Plans, now: datetime, limit: int = BATCH_SIZE
) -> MatchReport | None:
    """Handles one batch of new events in the caller's transaction; None when there are none."""
    events = claim_events(session, limit)
    if not events:
        return None
    live = plans.live(session)
    report = MatchReport(events=len(events))
    book = Book(now)
    entered = enroll(
        session, _candidates(events, live, now), {s.version_id: s.plan for s in live}, now
    )
    report.entered = len(entered)
    report.exited = _reach_event_goals(session, plans, events, entered, book, now)
    report.resumed = _resume_waits(session, plans, events, now)
    session.execute(
        update(EVENTS)
        .where(among(session, EVENTS.c.id, [e.id for e in events]))
        .values(processed_at=now)
    )
    report.counters = dict(book.counters)
    return report


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
            value = (event.properties or {}).get(match_key) if match_key else None
            if row.wait_key is None or (value is not None and str(value) == row.wait_key):
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


def _reach_event_goals(
    session: Session,
    plans: Plans,
    events: list[Any],
    entered: list[Candidate],
    book: Book,
    now: datetime,
) -> int:
    """Contacts who have just done their scenario's goal event leave it — by the goal of the
    version each one is on, paused scenarios included. Someone who entered in this same batch
    leaves only for a goal event that came after the one that let them in."""
    versions = session.execute(select(VERSIONS.c.id)).scalars().all()
    goals = {
        version_id: plan.settings.exit_when.event
        for version_id, plan in plans.many(session, set(versions)).items()
        if isinstance(plan.settings.exit_when, ExitOnEvent)
    }
    if not goals:
        return 0
    done: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for event in events:
        done[event.contact_id].append((event.id, event.name))
    query = select(ENROLLMENTS).where(
        among(session, ENROLLMENTS.c.version_id, goals),
        among(session, ENROLLMENTS.c.contact_id, done),
        ENROLLMENTS.c.state.in_(LIVE_STATES),
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    entry = {(c.scenario_id, c.contact_id, c.instance_key): c.event_id for c in entered}
    visits = []
    for row in session.execute(query):
        new = row.seq == 0 and row.entered_at == now
        since = entry.get((row.scenario_id, row.contact_id, row.instance_key)) if new else None
        goal = goals[row.version_id]
        if any(
            name == goal and (since is None or event_id > since)
            for event_id, name in done[row.contact_id]
        ):
            visits.append(Visit.from_row(row))
    for visit in visits:
        goal = goals[visit.version_id]
        book.step(visit, StepOutcome.exited, {"text": f"{goal} happened: goal reached"})
        visit.state, visit.ended_at, visit.wake_at = EnrollmentState.exited.value, now, None
    book.write(session, visits)
    return len(visits)
