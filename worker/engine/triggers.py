"""New events in, journeys out: trigger matching, waits that resume, goals reached.

Events — those tracked through the API and the system ones that record contact changes
(``contact_created``, ``list_added``, ``list_removed``, ``attribute_changed``,
``score_changed``, ``consent_changed``) — are taken in id order, a batch at a time, and each
batch is handled in one transaction that also marks it processed: an event is matched exactly
once, and the same event delivered twice was already stored once.

Besides letting contacts in, a batch resumes the waits for an event it holds, reaches event
goals, and wakes the waits for a condition that a change of their contact may have made true
(``steps/wait_condition.py``).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, literal_column, select, update
from sqlmodel import Session, SQLModel

from app.bulk import among, new_ids
from app.graph import Plan, matches_properties
from app.graph.document import ExitOnEvent
from app.i18n import say
from app.models import EnrollmentState
from app.services.scenarios.enrollments import SHARES, Candidate, admit, try_share
from worker.engine.advance import run_journeys
from worker.engine.book import Book, CounterKey
from worker.engine.plans import LiveScenario, Plans, events_heard
from worker.engine.steps.delays import HAPPENED_AT, after_trigger, awaited, in_wait
from worker.engine.steps.wait_condition import wake_condition_waits
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

    On PostgreSQL a batch holds the events of one share of the contacts, whose lock it keeps
    until it commits: every worker's lanes spread over the shares (``lane`` = (this lane,
    lanes) says where this one starts looking), and one contact's events are matched in
    order, one batch after the other — a goal event is never matched beside the entry it
    should end, in a transaction that cannot see it yet. SQLite has a single writer: its
    batches follow each other anyway."""
    if session.get_bind().dialect.name != "postgresql":
        return _claim(session, now, limit, None)
    index, lanes = lane
    oldest = session.execute(
        select(EVENTS.c.contact_id % SHARES)
        .where(EVENTS.c.processed_at.is_(None))
        .order_by(EVENTS.c.id)
        .limit(SHARE_PROBE)
    ).scalars()
    waiting = list(dict.fromkeys(oldest))  # the shares with work, oldest first
    # Lanes start at different places in that list, so they do not all try the same share.
    start = index * len(waiting) // lanes if waiting else 0
    for share in waiting[start:] + waiting[:start]:
        if try_share(session, share):
            claimed = _claim(session, now, limit, share)
            if claimed:
                return claimed
    return []


SHARE_PROBE = 256  # the oldest unmatched events looked at to find the shares with work


def _in_share(share: int) -> Any:
    # Written as in the index on unmatched events by share (the modulus a literal, not a
    # parameter), so PostgreSQL uses it.
    return EVENTS.c.contact_id.op("%")(literal_column(str(SHARES))) == share


def _claim(session: Session, now: datetime, limit: int, share: int | None) -> list[Any]:
    pending = (
        select(EVENTS.c.id)
        .where(EVENTS.c.processed_at.is_(None))
        .order_by(EVENTS.c.id)
        .limit(limit)
    )
    if share is not None:
        pending = pending.where(_in_share(share)).with_for_update(skip_locked=True)
    claimed = session.execute(
        update(EVENTS)
        .where(EVENTS.c.id.in_(pending.scalar_subquery()))
        .values(processed_at=now)
        .returning(EVENTS.c.id, EVENTS.c.contact_id, EVENTS.c.name, EVENTS.c.properties,
                   HAPPENED_AT.label("occurred_at"))
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
    report.resumed += wake_condition_waits(session, published, events, now)
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

    Events that happened after the one a contact entered by still count for them, whenever
    they are matched: their goal event (in this batch, or matched already) pulls them out
    before the first step, and an awaited event makes the wait they park on leave by YES.
    """
    reached = _goals_since(session, entered, goals)
    moving = []
    for visit in entered:
        if visit.id in reached:
            book.exit(visit, _goal_reached(goals[visit.version_id]))
        else:
            moving.append(visit)
    run_journeys(session, moving, plan_of, book, now)
    book.write(session, entered=entered)


def _goals_since(session: Session, entered: list[Visit], goals: dict[int, str]) -> set[int]:
    """New enrollments whose goal event happened after the event that let them in: in this
    batch, or in one matched already, by this worker or another (read from the table)."""
    wanted = [v for v in entered if v.version_id in goals and v.trigger_event_id is not None]
    since = [v.trigger_at for v in wanted if v.trigger_at is not None]
    if not wanted:
        return set()
    rows = session.execute(
        select(
            EVENTS.c.contact_id, EVENTS.c.id, EVENTS.c.name, HAPPENED_AT.label("occurred_at")
        ).where(
            among(session, EVENTS.c.contact_id, {v.contact_id for v in wanted}),
            among(session, EVENTS.c.name, {goals[v.version_id] for v in wanted}),
            min(since, default=datetime.min.replace(tzinfo=UTC)) <= HAPPENED_AT,
        )
    ).all()
    done: dict[int, list[Any]] = defaultdict(list)
    for row in rows:
        done[row.contact_id].append(row)
    return {
        v.id
        for v in wanted
        if any(
            _after_trigger(v, row) and row.name == goals[v.version_id] for row in done[v.contact_id]
        )
    }


def _after_trigger(visit: Visit, event: Any) -> bool:
    return after_trigger(visit, event.id, event.occurred_at)


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
                        event_at=event.occurred_at,
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
        visit = Visit.from_row(row)
        for event in by_contact.get((row.contact_id, row.wait_event), []):
            # What happened after the trigger and before the wait's deadline counts.
            if not in_wait(visit, event.id, event.occurred_at) or event.occurred_at > row.wake_at:
                continue
            if awaited(event.properties or {}, match_key, row.wait_key):
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
    return {
        "text": f"{goal} happened: goal reached",
        "say": say("%(event)s happened: goal reached", event=goal).dump(),
    }


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
    done: dict[int, dict[str, list[Any]]] = defaultdict(lambda: defaultdict(list))
    for event in events:
        done[event.contact_id][event.name].append(event)
    query = select(ENROLLMENTS).where(
        among(session, ENROLLMENTS.c.version_id, goals),
        among(session, ENROLLMENTS.c.contact_id, done),
        ENROLLMENTS.c.state.in_(LIVE_STATES),
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    visits = [
        visit
        for visit in map(Visit.from_row, session.execute(query))
        if any(
            _after_trigger(visit, e)
            for e in done[visit.contact_id].get(goals[visit.version_id], ())
        )
    ]
    for visit in visits:
        book.exit(visit, _goal_reached(goals[visit.version_id]))
    book.write(session, moved=visits)
    report.add(book)
    return len(visits)
