"""Activating with the contacts already there (CONTRACTS-2 §C): whoever matches a scenario's
“added to a list”, “entered a segment” or “attribute changed” trigger now enters too — all
at once, or at most ``per_hour`` each hour.

Both go through one durable queue (``entry_queue``): activation fills it with one
INSERT … SELECT per trigger block, and it is let in in chunks by the engine's own admission
(:func:`app.services.scenarios.enrollments.enroll`: the re-entry rules read at that moment,
one history query and one bulk INSERT per chunk). “All at once” empties it in the activation's
own transaction; a ramp leaves it to the worker (``worker/engine/entry_ramps.py``), which lets
in at most ``per_hour`` contacts an hour, each batch in one transaction that also deletes its
queue rows and moves the ramp on — a worker killed mid-batch loses nobody and lets nobody in
twice. Never one ORM object per contact.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, delete, exists, func, insert, literal, select, union, update
from sqlmodel import Session, SQLModel

from app.bulk import among, is_postgres
from app.graph import Issue, Plan, check_draft, compile_document, parse_condition
from app.graph.trigger_blocks import AttributeChangedConfig
from app.i18n import _
from app.models import Scenario, ScenarioStatus, ScenarioVersion
from app.models.entry_queue import EntryQueue, EntryRamp
from app.services.contacts.condition_sql import ConditionSql
from app.services.contacts.segments import evaluating
from app.services.errors import Invalid
from app.services.scenarios import scenarios
from app.services.scenarios.enrollments import Candidate, enroll
from app.services.scenarios.manual_enrollment import ManualEntry, refused_filter
from app.services.scenarios.migration import Migration
from app.services.scenarios.scenarios import Published, editable_scenario, known_refs, live_version

CONTACTS = SQLModel.metadata.tables["contacts"]
LISTS = SQLModel.metadata.tables["lists"]
MEMBERSHIPS = SQLModel.metadata.tables["list_memberships"]
SEGMENTS = SQLModel.metadata.tables["segments"]
SCENARIOS = SQLModel.metadata.tables["scenarios"]
QUEUE: Table = EntryQueue.__table__  # type: ignore[attr-defined]
RAMPS: Table = EntryRamp.__table__  # type: ignore[attr-defined]
CHUNK = 5_000  # contacts admitted per statement pair, as manual enrollment does
MAX_PER_HOUR = 100_000  # one hour's batch is one transaction: keep it a few dozen chunks
HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class Source:
    """One trigger block that lets in contacts already there, and what it watches."""

    node_id: str
    kind: str  # "list" | "segment" | "attribute"
    key: str  # the list or segment key, or the attribute
    name: str  # as a marketer knows it: the list's or segment's name, or the attribute
    ids: Any  # a SELECT of one column: the contact ids that match now
    condition: Any = None  # the segment's stored condition (it may fail in the database)


@dataclass(frozen=True)
class Existing:
    """Who would enter: the sources and how many contacts (each once, re-entry rules and the
    queue already holding them taken into account)."""

    sources: list[Source]
    count: int


@dataclass(frozen=True)
class LetIn:
    """What activating with the existing contacts did."""

    entered: int
    refused: int
    waiting: int
    per_hour: int | None


def sources(session: Session, plan: Plan, now: datetime) -> list[Source]:
    """The plan's triggers that existing contacts can match, in block id order; a list or
    segment that does not exist (yet) matches nobody."""
    found: list[Source] = []
    index = plan.triggers
    for key, node_ids in index.list_added.items():
        row = session.execute(select(LISTS.c.id, LISTS.c.name).where(LISTS.c.key == key)).first()
        ids = select(MEMBERSHIPS.c.contact_id.label("contact_id")).where(
            MEMBERSHIPS.c.list_id == (row.id if row else None)
        )
        found += [Source(n, "list", key, row.name if row else key, ids) for n in node_ids]
    compiler = ConditionSql(session.get_bind().dialect.name, now)
    for key, node_ids in index.segment_entered.items():
        segment = session.execute(
            select(SEGMENTS.c.name, SEGMENTS.c.condition).where(SEGMENTS.c.key == key)
        ).first()
        if segment is None:
            continue
        with evaluating(session, segment.condition):  # it may no longer parse or compile
            matches = compiler.contact_filter(parse_condition(segment.condition))
        ids = select(CONTACTS.c.id.label("contact_id")).where(matches)
        for node_id in node_ids:
            found.append(Source(node_id, "segment", key, segment.name, ids, segment.condition))
    for attribute, node_ids in index.attribute_changed.items():
        for node_id in node_ids:
            config = plan.block(node_id).config
            wanted = config.to if isinstance(config, AttributeChangedConfig) else None
            rule: dict[str, Any] = (
                {"attribute": attribute, "op": "exists"}
                if wanted is None
                else {"attribute": attribute, "op": "eq", "value": wanted}
            )
            matches = compiler.contact_filter(parse_condition(rule))
            ids = select(CONTACTS.c.id.label("contact_id")).where(matches)
            found.append(Source(node_id, "attribute", attribute, attribute, ids))
    return sorted(found, key=lambda s: s.node_id)


def draft_plan(session: Session, scenario: Scenario) -> Plan | None:
    """The draft as it would run, or None while it cannot be activated."""
    document, issues = check_draft(scenario.draft, known_refs(session))
    if document is None or any(issue.is_error for issue in issues):
        return None
    return compile_document(document)


def existing(session: Session, scenario: Scenario, plan: Plan, now: datetime) -> Existing:
    """How many contacts already there would enter ``scenario`` running ``plan``: one count
    query over the union of its sources."""
    found = sources(session, plan, now)
    if not found:
        return Existing([], 0)
    everyone = union(*(s.ids for s in found)).subquery()
    contact_id = everyone.c.contact_id
    query = select(func.count()).select_from(everyone).where(~_queued(scenario.id, contact_id))
    refused = refused_filter(ManualEntry(scenario, 0, plan), contact_id, now)
    if refused is not None:
        query = query.where(~refused)
    with _evaluating(session, found):
        count = int(session.execute(query).scalar_one())
    return Existing(found, count)


def check_request(session: Session, scenario_id: int, now: datetime) -> None:
    """Before activating with the existing contacts: Invalid (422, nothing written) when the
    draft has no trigger they could match, or a segment it watches cannot be evaluated. A
    draft with errors is left to the activation, which lists them."""
    scenario = editable_scenario(session, scenario_id)
    plan = draft_plan(session, scenario)
    if plan is None:
        return
    if not _watches_any(plan):
        raise Invalid(
            _(
                "Only a scenario that starts when a contact is added to a list, enters a "
                "segment or has an attribute change can let in the contacts already there."
            )
        )
    existing(session, scenario, plan, now)  # a broken segment says so now


def let_in(
    session: Session,
    scenario: Scenario,
    version: ScenarioVersion,
    now: datetime,
    per_hour: int | None,
) -> LetIn:
    """Queues the contacts already there who match a trigger (not those the re-entry rules
    keep out now, nor those queued already), then lets them all in now, or sets the ramp.
    ``refused`` counts those the rules kept out, now or as they entered."""
    assert scenario.id is not None
    plan = Plan.model_validate(version.plan)
    found = sources(session, plan, now)
    queued_at = literal(now, QUEUE.c.queued_at.type)
    kept_out, queued_before = 0, waiting_count(session, scenario.id)
    with _evaluating(session, found):
        if found:
            everyone = union(*(s.ids for s in found)).subquery()
            matching = select(func.count()).select_from(everyone)
            kept_out = int(
                session.execute(
                    matching.where(~_queued(scenario.id, everyone.c.contact_id))
                ).scalar_one()
            )
        for source in found:  # block id order: a contact matching two enters by the first
            who = source.ids.subquery().c.contact_id
            query = select(literal(scenario.id), who, literal(source.node_id), queued_at).where(
                ~_queued(scenario.id, who)
            )
            refused = refused_filter(ManualEntry(scenario, 0, plan), who, now)
            if refused is not None:
                query = query.where(~refused)
            session.execute(
                insert(QUEUE).from_select(
                    ["scenario_id", "contact_id", "node_id", "queued_at"], query.order_by(who)
                )
            )
    kept_out -= waiting_count(session, scenario.id) - queued_before  # those not queued
    if per_hour is None:
        entered, refused = 0, kept_out
        while True:
            moved = drain(session, scenario.id, CHUNK, now)
            if moved is None:
                break
            entered, refused = entered + moved[0], refused + moved[1]
        session.execute(delete(RAMPS).where(RAMPS.c.scenario_id == scenario.id))
        return LetIn(entered, refused, 0, None)
    waiting = waiting_count(session, scenario.id)
    if waiting:
        _set_ramp(session, scenario.id, per_hour, now)
    return LetIn(0, kept_out, waiting, per_hour if waiting else None)


def drain(session: Session, scenario_id: int, limit: int, now: datetime) -> tuple[int, int] | None:
    """Lets in up to ``limit`` of the scenario's queue, oldest first, and deletes their rows,
    in the caller's transaction; returns (entered, refused by the re-entry rules), or None
    when nothing is queued (or the scenario is not running)."""
    scenario = session.get(Scenario, scenario_id)
    if scenario is None or scenario.status != ScenarioStatus.active:
        return None
    version = live_version(session, scenario)
    if version is None or version.id is None:
        return None
    query = (
        select(QUEUE.c.id, QUEUE.c.contact_id, QUEUE.c.node_id)
        .where(QUEUE.c.scenario_id == scenario_id)
        .order_by(QUEUE.c.id)
        .limit(limit)
    )
    if is_postgres(session):
        query = query.with_for_update(skip_locked=True)
    rows = session.execute(query).all()
    if not rows:
        return None
    plan = Plan.model_validate(version.plan)
    # A block removed by a later version lets nobody in: its contacts leave the queue.
    candidates = [
        Candidate(scenario_id, version.id, row.node_id, row.contact_id, {"source": "existing"})
        for row in rows
        if row.node_id in plan.blocks and plan.block(row.node_id).type == "trigger"
    ]
    entered = enroll(session, candidates, {version.id: plan}, now)
    session.execute(delete(QUEUE).where(among(session, QUEUE.c.id, [row.id for row in rows])))
    return len(entered), len(rows) - len(entered)


def drain_ramp(session: Session, scenario_id: int, now: datetime) -> int | None:
    """One hour's batch of a ramp whose time has come, in the caller's transaction: at most
    ``per_hour`` contacts, then the next batch in an hour (or the ramp ends with its queue).
    Returns how many entered; None when the ramp is not due (another worker took it)."""
    query = select(RAMPS.c.per_hour).where(
        RAMPS.c.scenario_id == scenario_id, RAMPS.c.next_at <= now
    )
    if is_postgres(session):
        query = query.with_for_update(skip_locked=True)
    per_hour = session.execute(query).scalar()
    if per_hour is None:
        return None
    entered, left = 0, per_hour
    while left > 0:
        moved = drain(session, scenario_id, min(CHUNK, left), now)
        if moved is None:
            break
        entered += moved[0]
        left -= moved[0] + moved[1]
    if waiting_count(session, scenario_id):
        session.execute(
            update(RAMPS).where(RAMPS.c.scenario_id == scenario_id).values(next_at=now + HOUR)
        )
    else:
        session.execute(delete(RAMPS).where(RAMPS.c.scenario_id == scenario_id))
    return entered


def due_ramps(session: Session, now: datetime) -> list[int]:
    """The scenarios, running, whose next batch is due."""
    return list(
        session.execute(
            select(RAMPS.c.scenario_id)
            .join(SCENARIOS, RAMPS.c.scenario_id == SCENARIOS.c.id)
            .where(RAMPS.c.next_at <= now, SCENARIOS.c.status == ScenarioStatus.active.value)
            .order_by(RAMPS.c.next_at, RAMPS.c.scenario_id)
        ).scalars()
    )


@dataclass(frozen=True)
class Waiting:
    """A trigger block's queue, as the canvas shows it."""

    waiting: int
    per_hour: int | None


def waiting_by_block(session: Session, scenario_id: int) -> dict[str, Waiting]:
    per_hour = session.execute(
        select(RAMPS.c.per_hour).where(RAMPS.c.scenario_id == scenario_id)
    ).scalar()
    rows = session.execute(
        select(QUEUE.c.node_id, func.count())
        .where(QUEUE.c.scenario_id == scenario_id)
        .group_by(QUEUE.c.node_id)
    ).all()
    return {node_id: Waiting(int(n), per_hour) for node_id, n in rows}


def waiting_count(session: Session, scenario_id: int) -> int:
    return int(
        session.execute(
            select(func.count()).select_from(QUEUE).where(QUEUE.c.scenario_id == scenario_id)
        ).scalar_one()
    )


def _set_ramp(session: Session, scenario_id: int, per_hour: int, now: datetime) -> None:
    """The first batch is due at once; a ramp set again keeps its next time, at its new pace."""
    found = session.execute(
        select(RAMPS.c.scenario_id).where(RAMPS.c.scenario_id == scenario_id)
    ).first()
    if found is None:
        session.execute(
            insert(RAMPS).values(scenario_id=scenario_id, per_hour=per_hour, next_at=now)
        )
    else:
        session.execute(
            update(RAMPS).where(RAMPS.c.scenario_id == scenario_id).values(per_hour=per_hour)
        )


def _queued(scenario_id: int | None, contact_id: Any) -> Any:
    return exists().where(QUEUE.c.scenario_id == scenario_id, QUEUE.c.contact_id == contact_id)


def _watches_any(plan: Plan) -> bool:
    index = plan.triggers
    return bool(index.list_added or index.segment_entered or index.attribute_changed)


def _evaluating(session: Session, found: list[Source]) -> AbstractContextManager[None]:
    """Where to run queries over the sources: a segment's condition may fail in the database
    (stored before the limits), which becomes Invalid with the reason, not a server error."""
    segments = [s.condition for s in found if s.kind == "segment"]
    return evaluating(session, segments[0]) if segments else nullcontext()


def activate(
    session: Session,
    scenario_id: int,
    *,
    now: datetime,
    include_existing: bool,
    per_hour: int | None,
    user_id: int | None = None,
) -> tuple[Scenario, ScenarioVersion, list[Issue], LetIn | None]:
    """:func:`publish` without a migration: the contacts inside stay on their versions."""
    published, let_in = publish(
        session,
        scenario_id,
        now=now,
        include_existing=include_existing,
        per_hour=per_hour,
        user_id=user_id,
    )
    return published.scenario, published.version, published.warnings, let_in


def publish(
    session: Session,
    scenario_id: int,
    *,
    now: datetime,
    include_existing: bool,
    per_hour: int | None,
    user_id: int | None = None,
    migration: Migration | None = None,
    from_version: int | None = None,
) -> tuple[Published, LetIn | None]:
    """Activates the scenario (``scenarios.publish``, with its migration of the contacts
    inside) and, when asked, lets in the contacts already there; every refusal is checked
    before anything is written."""
    if include_existing:
        check_request(session, scenario_id, now)
    published = scenarios.publish(
        session,
        scenario_id,
        now=now,
        user_id=user_id,
        migration=migration,
        from_version=from_version,
    )
    if not include_existing:
        return published, None
    return published, let_in(session, published.scenario, published.version, now, per_hour)
