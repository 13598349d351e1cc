"""Who is (or was) at a block, and each contact's journey with the reasons for every turn.

The step log is the record: a contact "was at" a block when its enrollment has a step row
there. Pages are keyset-paginated on the step row id, so page 100 costs what page 1 does.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, update
from sqlmodel import Session, col, select

from app.graph import RefNames
from app.i18n import _, pgettext, say, spoken
from app.models import (
    Contact,
    ContactList,
    Enrollment,
    EnrollmentState,
    Scenario,
    ScenarioVersion,
    StepLog,
    StepOutcome,
)
from app.services.contacts import lists as list_service
from app.services.errors import Conflict, Invalid, NotFound
from app.services.messaging import not_sent
from app.services.messaging.holds import holds
from app.services.scenarios import migration_words
from app.services.scenarios.graph_layout import layout
from app.services.scenarios.ref_names import ref_names

SHOW = {
    "all": "Everyone who came here",
    "waiting": "Waiting here now",
    "yes": "Answered yes",
    "no": "Answered no",
    "completed": "Done",
    "skipped": "Not sent",
    "failed": "Failed",
    "exited": "Left the scenario here",
}
OUTCOME_WORDS = {
    "completed": "done",
    "yes": "yes",
    "no": "no",
    "skipped": "skipped",
    "waiting": "waiting",
    "failed": "failed",
    "exited": "left the scenario",
    "migrated": "scenario changed",
}


def outcome_words(outcome: str) -> str:
    """A step's outcome in the reader's words (a context: "waiting" is also a count's word)."""
    words = {
        "completed": pgettext("step outcome", "done"),
        "yes": pgettext("step outcome", "yes"),
        "no": pgettext("step outcome", "no"),
        "skipped": pgettext("step outcome", "skipped"),
        "waiting": pgettext("step outcome", "waiting"),
        "failed": pgettext("step outcome", "failed"),
        "exited": pgettext("step outcome", "left the scenario"),
        "migrated": pgettext("step outcome", "scenario changed"),
        "deferred": pgettext("step outcome", "held"),
    }
    return words.get(outcome, outcome)


LIVE = (EnrollmentState.active.value, EnrollmentState.waiting.value)
PAGE_SIZE = 50


@dataclass(frozen=True)
class Visitor:
    enrollment_id: int
    contact_id: int
    email: str | None
    name: str
    entered_at: datetime
    outcome: str
    state: str
    here_now: bool
    cursor: int

    @property
    def removable(self) -> bool:
        return self.state in LIVE


@dataclass
class VisitorPage:
    rows: list[Visitor]
    total: int
    next_cursor: int | None


def _filtered(
    scenario_id: int,
    node_id: str,
    show: str,
    search: str,
    why: str = "",
    version_id: int | None = None,
) -> Any:
    if show not in SHOW:
        raise Invalid(
            _("“%(show)s” is not a way to filter; choose one of: %(choices)s.")
            % {"show": show, "choices": ", ".join(SHOW)}
        )
    if why and why not in not_sent.REASONS:
        raise Invalid(
            _("“%(why)s” is not a reason a message was not sent; choose one of: %(choices)s.")
            % {"why": why, "choices": ", ".join(not_sent.REASONS)}
        )
    query = select(StepLog.enrollment_id, StepLog.id, StepLog.contact_id).where(
        StepLog.scenario_id == scenario_id, StepLog.node_id == node_id
    )
    if version_id is not None:
        query = query.where(StepLog.version_id == version_id)
    if show == "waiting":
        query = query.join(Enrollment, col(Enrollment.id) == col(StepLog.enrollment_id)).where(
            col(Enrollment.state) == EnrollmentState.waiting, Enrollment.node_id == node_id
        )
        if version_id is not None:  # moved to a newer version, they wait there, not here
            query = query.where(Enrollment.version_id == version_id)
    elif show == "skipped":  # not sent, at the block or when it was to leave
        unsent = not_sent.enrollments_at(scenario_id, node_id, why or None, version_id=version_id)
        query = query.where(col(StepLog.enrollment_id).in_(unsent))
    elif show != "all":
        query = query.where(StepLog.outcome == show)
    search = search.strip().lower()
    if search:
        query = query.join(Contact, col(Contact.id) == col(StepLog.contact_id)).where(
            func.lower(col(Contact.email)).contains(search, autoescape=True)
        )
    return query.subquery()


def block_visitors(
    session: Session,
    scenario_id: int,
    node_id: str,
    *,
    show: str = "all",
    search: str = "",
    why: str = "",
    after: int | None = None,
    limit: int = PAGE_SIZE,
    version_id: int | None = None,
) -> VisitorPage:
    """One page of who came to ``node_id``, most recent first; ``why`` narrows "not sent"
    (``show="skipped"``) to one reason, ``version_id`` to one version (else every version)."""
    rows = _filtered(scenario_id, node_id, show, search, why, version_id)
    total = session.exec(select(func.count(func.distinct(rows.c.enrollment_id)))).one()
    page = select(rows.c.enrollment_id, func.max(rows.c.id).label("cursor")).group_by(
        rows.c.enrollment_id
    )
    if after is not None:
        page = page.having(func.max(rows.c.id) < after)
    found = session.exec(page.order_by(func.max(rows.c.id).desc()).limit(limit + 1)).all()
    more = len(found) > limit
    found = found[:limit]
    ids = [enrollment_id for enrollment_id, _ in found]
    if not ids:
        return VisitorPage(rows=[], total=int(total), next_cursor=None)
    at_block = select(StepLog.enrollment_id, StepLog.at, StepLog.outcome, StepLog.id).where(
        col(StepLog.enrollment_id).in_(ids), StepLog.node_id == node_id
    )
    if version_id is not None:  # a contact moved on keeps its block id on the newer version
        at_block = at_block.where(StepLog.version_id == version_id)
    steps = session.exec(at_block.order_by(col(StepLog.id))).all()
    first_at: dict[int, datetime] = {}
    last_outcome: dict[int, str] = {}
    for enrollment_id, at, outcome, _detail in steps:
        first_at.setdefault(enrollment_id, at)
        last_outcome[enrollment_id] = outcome
    people = {
        e.id: (e, c)
        for e, c in session.exec(
            select(Enrollment, Contact)
            .join(Contact, col(Contact.id) == col(Enrollment.contact_id))
            .where(col(Enrollment.id).in_(ids))
        ).all()
    }
    visitors = []
    for enrollment_id, cursor in found:
        if enrollment_id not in people:
            continue
        enrollment, contact = people[enrollment_id]
        name = " ".join(p for p in (contact.first_name, contact.last_name) if p)
        visitors.append(
            Visitor(
                enrollment_id=enrollment_id,
                contact_id=contact.id or 0,
                email=contact.email,
                name=name,
                entered_at=first_at[enrollment_id],
                outcome=last_outcome[enrollment_id],
                state=str(enrollment.state),
                here_now=enrollment.node_id == node_id
                and enrollment.state in LIVE
                and version_id in (None, enrollment.version_id),
                cursor=cursor,
            )
        )
    return VisitorPage(rows=visitors, total=int(total), next_cursor=found[-1][1] if more else None)


@dataclass(frozen=True)
class Removed:
    version_id: int
    node_id: str
    was_waiting: bool


def remove_from_scenario(
    session: Session, scenario_id: int, enrollment_id: int, *, removed_by: str, now: datetime
) -> Removed:
    """Takes one contact out of the scenario, recorded in the step log like any other step.

    The update is guarded by the step number the contact was at, so a worker that moves the
    contact at the same moment either wins (and this is refused) or sees its chunk dropped.
    """
    enrollment = session.get(Enrollment, enrollment_id)
    if enrollment is None or enrollment.scenario_id != scenario_id:
        raise NotFound("This contact is not in this scenario.")
    if enrollment.state not in LIVE:
        raise Invalid("This contact has already left the scenario.")
    state, seq, node_id = str(enrollment.state), enrollment.seq, enrollment.node_id
    changed = session.execute(
        update(Enrollment)
        .where(col(Enrollment.id) == enrollment_id, col(Enrollment.seq) == seq)
        .where(col(Enrollment.state) == state)
        .values(
            state=EnrollmentState.exited.value,
            seq=seq + 1,
            wake_at=None,
            wait_event=None,
            wait_key=None,
            ended_at=now,
            updated_at=now,
        )
    )
    if changed.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict("This contact moved on at this very moment. Reload the list and try again.")
    session.execute(
        insert(StepLog).values(
            enrollment_id=enrollment_id,
            scenario_id=scenario_id,
            version_id=enrollment.version_id,
            contact_id=enrollment.contact_id,
            node_id=node_id,
            seq=seq + 1,
            outcome=StepOutcome.exited.value,
            detail={
                "text": f"removed by {removed_by}",
                "say": say("removed by %(name)s", name=removed_by).dump(),
            },
            at=now,
        )
    )
    session.expire(enrollment)
    return Removed(enrollment.version_id, node_id, state == EnrollmentState.waiting.value)


def list_key_for(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.strip().lower()).strip("-")[:100]


def save_as_list(
    session: Session,
    scenario_id: int,
    node_id: str,
    *,
    name: str,
    show: str,
    search: str,
    now: datetime,
    version_id: int | None = None,
) -> tuple[ContactList, int]:
    """A new static list with every contact the filter shows (all pages)."""
    rows = _filtered(scenario_id, node_id, show, search, version_id=version_id)
    contact_ids = list(session.exec(select(rows.c.contact_id).distinct()).all())
    if not contact_ids:
        raise Invalid("Nobody matches: there is no one to put in a list.")
    key = list_key_for(name)
    if not key:
        raise Invalid("Give the list a name, e.g. “Cart reminder — no purchase”.")
    lst = list_service.create_list(session, key=key, name=name, now=now)
    added = list_service.add_members(session, [lst], contact_ids, now=now, source="scenario")
    return lst, added


# --- journeys --------------------------------------------------------------------------------


@dataclass(frozen=True)
class JourneyStep:
    at: datetime
    node_id: str
    block: str
    summary: str
    outcome: str
    detail: dict[str, Any] | None

    @property
    def outcome_words(self) -> str:
        return outcome_words(self.outcome)

    @property
    def why(self) -> Reason | None:
        """The step's reason, and an explanation's parts under it, in the reader's words."""
        return reason(self.detail)


@dataclass(frozen=True)
class Reason:
    text: str
    result: bool | None  # None: a plain note ("waits until …"), neither yes nor no
    children: list[Reason] = field(default_factory=list)


def reason(detail: Mapping[str, Any] | None) -> Reason | None:
    """A stored step detail in the reader's language (older rows without a phrase: English)."""
    if not isinstance(detail, Mapping) or not detail.get("text"):
        return None
    result = detail.get("result")
    children = [reason(child) for child in detail.get("children") or ()]
    return Reason(
        spoken(detail),
        result if isinstance(result, bool) else None,
        [child for child in children if child is not None],
    )


@dataclass
class Journey:
    enrollment: Enrollment
    version: int
    steps: list[JourneyStep] = field(default_factory=list)


def block_names(graph: dict[str, Any], names: RefNames | None = None) -> dict[str, tuple[str, str]]:
    """Each block's (name, summary) as the canvas shows them (``names``: what templates, lists
    and segments are called)."""
    return {box.id: (box.name, box.summary) for box in layout(graph, names).boxes}


def journeys(
    session: Session, scenario: Scenario, contact_id: int
) -> tuple[Contact, list[Journey]]:
    contact = session.get(Contact, contact_id)
    if contact is None:
        raise NotFound(f"There is no contact {contact_id}.")
    enrollments = session.exec(
        select(Enrollment)
        .where(Enrollment.scenario_id == scenario.id, Enrollment.contact_id == contact_id)
        .order_by(col(Enrollment.id).desc())
    ).all()
    versions = {
        v.id: v
        for v in session.exec(
            select(ScenarioVersion).where(ScenarioVersion.scenario_id == scenario.id)
        ).all()
    }
    called = ref_names(session)
    names = {vid: block_names(v.graph, called) for vid, v in versions.items()}
    # A block missing from its version's graph is named in words, never by its id.
    gone = (pgettext("journey step", "A block no longer in the scenario"), "")
    steps = session.exec(
        select(StepLog)
        .where(col(StepLog.enrollment_id).in_([e.id for e in enrollments]))
        .order_by(col(StepLog.enrollment_id), col(StepLog.seq))
    ).all()
    # A move names the blocks of two versions: both in the reader's words, not the publisher's.
    labels = {vid: {n: s or name for n, (name, s) in shown.items()} for vid, shown in names.items()}
    by_enrollment: dict[int, list[JourneyStep]] = {}
    for step in steps:
        name, summary = names.get(step.version_id, {}).get(step.node_id, gone)
        detail = step.detail
        if step.outcome == StepOutcome.migrated:
            detail = migration_words.in_reader_words(detail, labels)
        by_enrollment.setdefault(step.enrollment_id, []).append(
            JourneyStep(step.at, step.node_id, name, summary, step.outcome, detail)
        )
    # Sends the sending rules held back, told just after the step that queued them.
    for enrollment_id, held in holds(session, by_enrollment).items():
        shown = by_enrollment[enrollment_id]
        for hold in held:
            name, summary = names.get(_version_of(enrollments, enrollment_id), {}).get(
                hold.node_id, gone
            )
            line = JourneyStep(hold.at, hold.node_id, name, summary, hold.outcome, hold.detail)
            after = max((i for i, s in enumerate(shown) if s.node_id == hold.node_id), default=-1)
            shown.insert(after + 1 if after >= 0 else len(shown), line)
    return contact, [
        Journey(
            enrollment=e,
            version=versions[e.version_id].number if e.version_id in versions else 0,
            steps=by_enrollment.get(e.id or 0, []),
        )
        for e in enrollments
    ]


def _version_of(enrollments: Any, enrollment_id: int) -> int:
    return next((e.version_id for e in enrollments if e.id == enrollment_id), 0)
