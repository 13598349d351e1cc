"""The publish dialog's questions in plain words (issue 16): for each block where contacts are
parked, the draft's blocks a move can take them to, the one suggested, and what the chosen
answer would do to them — said before anything is published, from the publish plan, the
versions' graphs and one grouped query for the waits' wake-up times. Reads only."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session, SQLModel, col
from sqlmodel import select as select_model

from app.graph import RefNames, check_draft
from app.graph.blocks import Block
from app.graph.wording import format_duration
from app.i18n import format_date, format_number, ngettext
from app.i18n.formatting import local
from app.models import EnrollmentState, Scenario, ScenarioVersion
from app.services.scenarios import migration_words as words
from app.services.scenarios.migration import Action, Timers, same_delay
from app.services.scenarios.publish_plan import PublishPlan
from app.services.scenarios.ref_names import ref_names

ENROLLMENTS = SQLModel.metadata.tables["enrollments"]
MESSAGES = frozenset({"send_email", "send_sms"})
LONGEST_PATH = 200  # blocks followed from a target: a draft with a loop must still answer


@dataclass(frozen=True)
class Target:
    """A block of the draft that can take contacts (not a trigger, not an exit)."""

    node: str
    label: str


@dataclass(frozen=True)
class Held:
    """One block holding contacts, over every running version: a migration names it once."""

    node: str
    name: str
    waiting: int
    versions: tuple[int, ...]
    kept: bool
    changed: bool
    suggested: str | None  # where "Move them to" points unless chosen otherwise
    source: Block | None  # as the newest version holding contacts there runs it


@dataclass(frozen=True)
class Answer:
    action: Action
    to: str | None = None


@dataclass(frozen=True)
class Choices:
    held: list[Held]
    targets: list[Target]
    answers: dict[str, Answer]  # by block id, a move's ``to`` always one of ``targets``
    timers: Timers
    timers_matter: bool  # some move lands a parked contact on a delay of the same kind
    effects: dict[str, list[str]]  # by block id: the answer's consequences, sentence by sentence


@dataclass(frozen=True)
class _Draft:
    blocks: dict[str, Block]
    next_of: dict[tuple[str, str], str]  # (block, port) -> the block it leads to
    labels: dict[str, str]
    names: RefNames


def choices(
    session: Session,
    scenario: Scenario,
    plan: PublishPlan,
    asked: Mapping[str, Answer],
    timers: Timers,
    now: datetime,
) -> Choices:
    """The questions of ``plan`` answered as ``asked`` (a block not asked about stays; a move
    to a block that cannot take contacts goes to the suggested one)."""
    names = ref_names(session)
    draft = _draft(scenario.draft, names)
    targets = [
        Target(node_id, draft.labels.get(node_id, node_id))
        for node_id, block in draft.blocks.items()
        if block.type != "trigger" and (block.type, block.kind) != ("action", "exit")
    ]
    usable = {t.node for t in targets}
    held = _held(session, scenario, plan, draft, usable)
    answers: dict[str, Answer] = {}
    for block in held:
        wanted = asked.get(block.node, Answer(Action.stay))
        to = wanted.to if wanted.to in usable else block.suggested
        if wanted.action is Action.move and to is None:
            wanted = Answer(Action.stay)
        answers[block.node] = Answer(wanted.action, to)
    moves = [(b, answers[b.node]) for b in held if answers[b.node].action is Action.move]
    matter = any(same_delay(b.source, draft.blocks[a.to]) for b, a in moves if a.to in draft.blocks)
    wakes = _first_wakes(session, scenario.id or 0, [b.node for b, _ in moves])
    effects = {
        b.node: _effect(b, answers[b.node], timers, draft, now, wakes.get(b.node)) for b in held
    }
    return Choices(held, targets, answers, timers, matter, effects)


def _effect(
    held: Held,
    answer: Answer,
    timers: Timers,
    draft: _Draft,
    now: datetime,
    first_wake: datetime | None,
) -> list[str]:
    """What ``answer`` does to the contacts of ``held``, in sentences."""
    count = held.waiting
    shown = {"count": format_number(count), "from": held.name}
    if answer.action is Action.stay:
        if len(held.versions) == 1:
            return [
                ngettext(
                    "%(count)s contact waiting in “%(from)s” stays on version %(version)s and "
                    "finishes the journey as planned.",
                    "%(count)s contacts waiting in “%(from)s” stay on version %(version)s and "
                    "finish the journey as planned.",
                    count,
                )
                % {**shown, "version": held.versions[0]}
            ]
        return [
            ngettext(
                "%(count)s contact waiting in “%(from)s” stays on its version and finishes "
                "the journey as planned.",
                "%(count)s contacts waiting in “%(from)s” stay on their versions and finish "
                "the journey as planned.",
                count,
            )
            % shown
        ]
    if answer.action is Action.exit:
        return [
            ngettext(
                "%(count)s contact waiting in “%(from)s” will leave the scenario now and "
                "receive nothing more from it.",
                "%(count)s contacts waiting in “%(from)s” will leave the scenario now and "
                "receive nothing more from it.",
                count,
            )
            % shown
        ]
    assert answer.to is not None
    target = draft.blocks[answer.to]
    keeps = timers is Timers.keep and same_delay(held.source, target)
    shown["to"] = draft.labels.get(answer.to, answer.to)
    start = max(now, first_wake) if keeps and first_wake is not None else now
    said = [_arrival(count, shown, _ahead(answer.to, draft, keeps, start), now)]
    if target.type == "delay" and same_delay(held.source, target):
        said.append(
            ngettext("It keeps its wake-up time.", "They keep their wake-up time.", count)
            if keeps
            else ngettext("Its wait starts again now.", "Their wait starts again now.", count)
        )
    return said


@dataclass(frozen=True)
class _Ahead:
    """What a moved contact meets first: a message (and from when), a block that decides the
    rest, or the journey's end."""

    message: str | None = None
    at: datetime | None = None
    decides: str | None = None


def _ahead(start_id: str, draft: _Draft, keeps: bool, start: datetime) -> _Ahead:
    at, node_id = start, start_id
    for _step in range(LONGEST_PATH):
        block = draft.blocks.get(node_id)
        if block is None:
            return _Ahead()
        if block.type == "action" and block.kind in MESSAGES:
            key = str(getattr(block.config, "message", None) or "")
            named = draft.names.of("message", key) if key else draft.labels.get(node_id)
            return _Ahead(message=named, at=at)
        if (block.type, block.kind) == ("action", "exit"):
            return _Ahead()
        if (block.type, block.kind) == ("delay", "wait"):
            # A kept timer already counts this wait: it wakes at its old time.
            if not (keeps and node_id == start_id):
                later = _after(at, int(getattr(block.config, "seconds", None) or 0))
                if later is None:  # past the calendar's end: the engine cannot wake them either
                    return _Ahead()
                at = later
        elif block.type != "action":  # a condition, or a delay that decides when or which way
            return _Ahead(decides=draft.labels.get(node_id, node_id))
        following = draft.next_of.get((node_id, "out"))
        if following is None:
            return _Ahead()
        node_id = following
    return _Ahead()


# The last moment a date is said for, a day short of the calendar's end (9999-12-31), so
# that moving it to the reader's time zone stays within the calendar.
LAST_SAID = datetime.max.replace(tzinfo=UTC) - timedelta(days=1)


def _after(at: datetime, seconds: int) -> datetime | None:
    """``seconds`` after ``at``; None past the calendar's end (a wait of a million years)."""
    try:
        later = at + timedelta(seconds=seconds)
    except OverflowError:
        return None
    return later if later <= LAST_SAID else None


def _arrival(count: int, shown: dict[str, Any], ahead: _Ahead, now: datetime) -> str:
    if ahead.decides is not None:
        moved = ngettext(
            "%(count)s contact waiting in “%(from)s” will move to “%(to)s”.",
            "%(count)s contacts waiting in “%(from)s” will move to “%(to)s”.",
            count,
        )
        nxt = ngettext(
            "What comes next for it depends on “%(block)s”.",
            "What comes next for them depends on “%(block)s”.",
            count,
        )
        return f"{moved % shown} {nxt % {'block': ahead.decides}}"
    if ahead.at is None:
        return (
            ngettext(
                "%(count)s contact waiting in “%(from)s” will move to “%(to)s” and receive no "
                "more messages from this scenario.",
                "%(count)s contacts waiting in “%(from)s” will move to “%(to)s” and receive no "
                "more messages from this scenario.",
                count,
            )
            % shown
        )
    shown = {**shown, "message": ahead.message or ""}
    wait = ahead.at - now
    days = (local(ahead.at).date() - local(now).date()).days
    if wait <= timedelta(seconds=60):
        return (
            ngettext(
                "%(count)s contact waiting in “%(from)s” will move to “%(to)s” and receive "
                "“%(message)s” right away.",
                "%(count)s contacts waiting in “%(from)s” will move to “%(to)s” and receive "
                "“%(message)s” right away.",
                count,
            )
            % shown
        )
    if days == 0:
        return ngettext(
            "%(count)s contact waiting in “%(from)s” will move to “%(to)s” and receive "
            "“%(message)s” in %(duration)s at the earliest.",
            "%(count)s contacts waiting in “%(from)s” will move to “%(to)s” and receive "
            "“%(message)s” in %(duration)s at the earliest.",
            count,
        ) % {**shown, "duration": format_duration(_rounded(wait))}
    if days == 1:
        return (
            ngettext(
                "%(count)s contact waiting in “%(from)s” will move to “%(to)s” and receive "
                "“%(message)s” tomorrow at the earliest.",
                "%(count)s contacts waiting in “%(from)s” will move to “%(to)s” and receive "
                "“%(message)s” tomorrow at the earliest.",
                count,
            )
            % shown
        )
    return ngettext(
        "%(count)s contact waiting in “%(from)s” will move to “%(to)s” and receive "
        "“%(message)s” on %(date)s at the earliest.",
        "%(count)s contacts waiting in “%(from)s” will move to “%(to)s” and receive "
        "“%(message)s” on %(date)s at the earliest.",
        count,
    ) % {**shown, "date": format_date(ahead.at, "weekday")}


def _rounded(wait: timedelta) -> int:
    """Whole minutes: "in 2 hours 59 minutes 58 seconds" is noise."""
    return max(60, int(wait.total_seconds()) // 60 * 60)


def _draft(graph: dict[str, Any], names: RefNames) -> _Draft:
    document, _issues = check_draft(graph)
    if document is None:
        return _Draft({}, {}, {}, names)
    blocks = {node.id: node for node in document.nodes}
    next_of = {(edge.source, edge.port): edge.target for edge in document.edges}
    return _Draft(blocks, next_of, words.block_labels(graph, names), names)


def _held(
    session: Session,
    scenario: Scenario,
    plan: PublishPlan,
    draft: _Draft,
    usable: set[str],
) -> list[Held]:
    """The plan's holdings grouped by block, in the plan's order."""
    graphs = {
        v.number: v.graph
        for v in session.exec(
            select_model(ScenarioVersion).where(col(ScenarioVersion.scenario_id) == scenario.id)
        ).all()
    }
    grouped: dict[str, list[Any]] = {}
    for holding in plan.holding:
        grouped.setdefault(holding.node, []).append(holding)
    found = []
    for node_id, rows in grouped.items():
        newest = max(rows, key=lambda h: h.version)
        graph = graphs.get(newest.version) or {}
        document, _issues = check_draft(graph)
        source = next((n for n in document.nodes if n.id == node_id), None) if document else None
        found.append(
            Held(
                node=node_id,
                name=newest.name,
                waiting=sum(h.waiting for h in rows),
                versions=tuple(sorted({h.version for h in rows})),
                kept=newest.kept,
                changed=any(h.changed for h in rows),
                suggested=_suggested(node_id, graph, draft, usable),
                source=source,
            )
        )
    return found


def _suggested(node_id: str, graph: dict[str, Any], draft: _Draft, usable: set[str]) -> str | None:
    """The same block when the draft keeps it; else the block the draft puts where it was
    (what now follows the block that led to it, or it, for a trigger); else the draft's first
    usable block."""
    if node_id in usable:
        return node_id
    if draft.next_of.get((node_id, "out")) in usable:
        return draft.next_of[(node_id, "out")]
    for edge in graph.get("edges") or ():
        if isinstance(edge, dict) and edge.get("to") == node_id:
            after = draft.next_of.get((str(edge.get("from")), str(edge.get("port") or "out")))
            if after in usable:
                return after
    return next((other for other in draft.blocks if other in usable), None)


def _first_wakes(session: Session, scenario_id: int, node_ids: list[str]) -> dict[str, datetime]:
    """The soonest wake-up of the contacts parked in each block (over every version)."""
    if not node_ids:
        return {}
    rows = session.execute(
        select(ENROLLMENTS.c.node_id, func.min(ENROLLMENTS.c.wake_at))
        .where(
            ENROLLMENTS.c.scenario_id == scenario_id,
            ENROLLMENTS.c.node_id.in_(node_ids),
            ENROLLMENTS.c.state == EnrollmentState.waiting.value,
        )
        .group_by(ENROLLMENTS.c.node_id)
    ).all()
    return {str(node): wake for node, wake in rows if wake is not None}
