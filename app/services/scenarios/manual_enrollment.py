"""Enrolling by hand: one contact, some contacts, a list or a segment, through a scenario's
"Add contacts by hand" entry point, under its re-entry rules (CONTRACTS-2 §C).

The count shown before confirming is one SQL query over the target; the enrollment walks the
target's contact ids in keyset chunks and hands each chunk to the engine's own admission
(:func:`app.services.scenarios.enrollments.enroll`: one history query, one bulk INSERT), so
a list of 100,000 contacts is a few dozen statements and never one ORM object per contact.
Nothing is written before every refusal (unknown list, inactive scenario…) has been checked.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, exists, func, literal, or_, select
from sqlmodel import Session, SQLModel, col

from app.bulk import among
from app.graph import Plan, parse_condition
from app.i18n import _
from app.models import Contact, ContactList, Scenario, ScenarioStatus, ScenarioVersion, Segment
from app.services.contacts.condition_sql import ConditionSql
from app.services.contacts.lists import get_list
from app.services.contacts.segments import evaluating, get_segment
from app.services.errors import Conflict, Invalid
from app.services.scenarios.enrollments import ENROLLMENTS, LIVE_STATES, enroll_manually
from app.services.scenarios.scenarios import editable_scenario, live_version

CONTACTS = SQLModel.metadata.tables["contacts"]
MEMBERSHIPS = SQLModel.metadata.tables["list_memberships"]
CHUNK = 5_000  # contacts admitted per statement pair; the engine's own chunks are this size


@dataclass(frozen=True)
class Target:
    """Whom to enroll: exactly one of the three."""

    contact_ids: tuple[int, ...] = ()
    list_key: str | None = None
    segment_key: str | None = None


@dataclass(frozen=True)
class ManualEntry:
    """An active scenario's live version and its manual entry point."""

    scenario: Scenario
    version_id: int
    plan: Plan


@dataclass(frozen=True)
class Resolved:
    """A target found in the database: what it is called and the query of its contact ids."""

    ids: Any  # a SELECT of one column, the contact ids (distinct)
    column: Any  # that column, for the keyset
    contact_list: ContactList | None = None
    segment: Segment | None = None
    contact: Contact | None = None

    def running(self, session: Session) -> AbstractContextManager[None]:
        """Where to run its queries: a segment's condition may fail in the database (stored
        before the limits), which becomes Invalid with the reason instead of a server error."""
        if self.segment is None:
            return nullcontext()
        return evaluating(session, self.segment.condition)


@dataclass(frozen=True)
class Preview:
    total: int
    refused: int

    @property
    def enrollable(self) -> int:
        return self.total - self.refused


def manual_entry(session: Session, scenario_id: int) -> ManualEntry:
    """The scenario, if contacts can be enrolled in it by hand now; Conflict (409) otherwise."""
    # An archived one says so (it can never be activated again), rather than "activate it".
    scenario = editable_scenario(session, scenario_id)
    version = live_version(session, scenario)
    if scenario.status != ScenarioStatus.active or version is None:
        raise Conflict(_("Activate the scenario before adding contacts to it."))
    plan = Plan.model_validate(version.plan)
    if not plan.triggers.manual:
        raise Conflict(
            _(
                "This scenario has no “Add contacts by hand” entry point: "
                "add one to enroll contacts."
            )
        )
    assert version.id is not None
    return ManualEntry(scenario, version.id, plan)


def manual_scenarios(session: Session) -> list[Scenario]:
    """The active scenarios whose live version can take contacts by hand, by name."""
    rows = session.exec(
        select(Scenario, ScenarioVersion.plan)  # type: ignore[call-overload]
        .join(
            ScenarioVersion,
            and_(
                col(ScenarioVersion.scenario_id) == col(Scenario.id),
                col(ScenarioVersion.number) == col(Scenario.live_version),
            ),
        )
        .where(col(Scenario.status) == ScenarioStatus.active, col(Scenario.archived_at).is_(None))
        .order_by(col(Scenario.name), col(Scenario.id))
    ).all()
    return [scenario for scenario, plan in rows if (plan.get("triggers") or {}).get("manual")]


def resolve(session: Session, target: Target, now: datetime) -> Resolved:
    """The target's contacts; NotFound (404) for an unknown list or segment, Invalid (422) for
    contact ids that do not exist (nobody is added) or a segment that cannot be evaluated."""
    if target.list_key is not None:
        contact_list = get_list(session, target.list_key)
        column = MEMBERSHIPS.c.contact_id
        query = select(column).where(MEMBERSHIPS.c.list_id == contact_list.id)
        return Resolved(query, column, contact_list=contact_list)
    if target.segment_key is not None:
        segment = get_segment(session, target.segment_key)
        compiler = ConditionSql(session.get_bind().dialect.name, now)
        with evaluating(session, segment.condition):  # it may no longer parse or compile
            matches = compiler.contact_filter(parse_condition(segment.condition))
        return Resolved(select(CONTACTS.c.id).where(matches), CONTACTS.c.id, segment=segment)
    wanted = list(dict.fromkeys(target.contact_ids))
    if not wanted:
        raise Invalid(_("Say whom to enroll: contact ids, a list or a segment."))
    found = set(
        session.execute(
            select(CONTACTS.c.id).where(among(session, CONTACTS.c.id, wanted))
        ).scalars()
    )
    missing = [cid for cid in wanted if cid not in found]
    if missing:
        shown = ", ".join(map(str, missing[:10])) + ("…" if len(missing) > 10 else "")
        raise Invalid(_("These contacts do not exist: %(ids)s. Nobody was added.") % {"ids": shown})
    contact = session.get(Contact, wanted[0]) if len(wanted) == 1 else None
    query = select(CONTACTS.c.id).where(among(session, CONTACTS.c.id, wanted))
    return Resolved(query, CONTACTS.c.id, contact=contact)


def refused_filter(entry: ManualEntry, contact_id: Any, now: datetime) -> Any | None:
    """Whether the re-entry rules keep a contact out, as SQL over its past journeys — the rules
    of ``enrollments._History.allows`` for a manual entry (no instance key); None when they
    let everyone in."""
    settings = entry.plan.settings
    reasons: list[Any] = []
    if settings.reentry == "once":
        reasons.append(ENROLLMENTS.c.id.is_not(None))  # any earlier journey
    elif settings.reentry == "after_exit":
        reasons.append(ENROLLMENTS.c.state.in_(LIVE_STATES))
    if settings.cooldown_seconds:
        since = now - timedelta(seconds=settings.cooldown_seconds)
        reasons.append(ENROLLMENTS.c.entered_at > since)
    if not reasons:
        return None
    return exists().where(
        ENROLLMENTS.c.scenario_id == entry.scenario.id,
        ENROLLMENTS.c.contact_id == contact_id,
        or_(*reasons),
    )


def preview(session: Session, entry: ManualEntry, target: Resolved, now: datetime) -> Preview:
    """How many contacts the target holds and how many the re-entry rules would keep out."""
    ids = target.ids.distinct().subquery()
    refused = refused_filter(entry, ids.c[0], now)
    kept_out = (
        func.coalesce(func.sum(case((refused, 1), else_=0)), 0)
        if refused is not None
        else literal(0)
    )
    with target.running(session):
        total, out = session.execute(select(func.count(), kept_out).select_from(ids)).one()
    return Preview(int(total), int(out or 0))


def enroll(
    session: Session, entry: ManualEntry, target: Resolved, now: datetime
) -> tuple[int, int]:
    """Enrolls the target; returns (enrolled, refused by the re-entry rules)."""
    enrolled = refused = 0
    for chunk in _chunks(session, target):
        entered = enroll_manually(
            session,
            scenario_id=entry.scenario.id,  # type: ignore[arg-type]
            version_id=entry.version_id,
            plan=entry.plan,
            contact_ids=chunk,
            now=now,
        )
        enrolled += len(entered)
        refused += len(chunk) - len(entered)
    return enrolled, refused


def _chunks(session: Session, target: Resolved) -> Iterator[list[int]]:
    """The target's contact ids in ascending chunks (keyset on the id: each chunk is one
    indexed query, whatever the target's size)."""
    after: int | None = None
    while True:
        query = target.ids.distinct()
        if after is not None:
            query = query.where(target.column > after)
        with target.running(session):
            chunk = list(session.execute(query.order_by(target.column).limit(CHUNK)).scalars())
        if not chunk:
            return
        yield chunk
        after = chunk[-1]
