"""Moving the contacts already inside a scenario when a change is published (CONTRACTS-2 §B).

A migration names blocks by id; a choice applies to that block in every running version that
holds contacts there (the publish plan lists each version's count; the canvas offers one
choice per block). ``stay`` (the default) leaves them on their version; ``move`` puts them on
the published version at block ``to`` (the same id when omitted); ``exit`` ends their journey.

It is checked in full before anything is written (:func:`check`, 422 with every problem),
then applied in bulk (:func:`apply`): per (version, block) one ``UPDATE … RETURNING`` — or two
when waits keep their timers — and one bulk insert of the step rows it returned, so the step
log records exactly the journeys that moved, even with the engine moving others meanwhile.

Each journey moved or taken out gets one step row (outcome ``migrated``), placed so the step
log keeps counting as the engine counts: a contact that stays parked (its timer kept) gets it
at the block it moved to, on the new version — that block's ``entered`` sees it arrive; one
made due at the target gets it at the block it left, and the engine's step at the target
writes (and counts) its arrival, as for anyone arriving; one taken out gets it at the block
it left. Its old version's ``waiting`` drops as the enrollment leaves it.
Timers: with ``keep``, a contact parked on a delay that moves onto a delay of the same kind
(waiting for the same event and instance, for a wait for an event) keeps its wake-up time and
stays parked; anyone else is made due now at the target, and the engine runs the target
block's own step (a delay parks anew, an email is sent).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, SQLModel, col, select

from app.bulk import insert_rows
from app.graph import Plan
from app.graph.blocks import Block
from app.graph.flow_blocks import WaitForEventConfig
from app.i18n import _, format_number, ngettext
from app.models import EnrollmentState, ScenarioVersion, StepOutcome
from app.services.errors import Invalid
from app.services.scenarios import migration_words as words
from app.services.scenarios.holdings import UNDER_WAY, Holding, holdings
from app.services.scenarios.ref_names import ref_names

ENROLLMENTS = SQLModel.metadata.tables["enrollments"]
STEP_LOG = SQLModel.metadata.tables["step_log"]
WAITING, ACTIVE = EnrollmentState.waiting.value, EnrollmentState.active.value


class Action(StrEnum):
    stay = "stay"
    move = "move"
    exit = "exit"


class Timers(StrEnum):
    keep = "keep"
    restart = "restart"


@dataclass(frozen=True)
class Choice:
    action: Action
    to: str | None = None  # for a move; None: the block of the same id


@dataclass(frozen=True)
class Migration:
    choices: Mapping[str, Choice]
    timers: Timers = Timers.keep


@dataclass(frozen=True)
class Step:
    """What becomes of the contacts of one (version, block)."""

    source: Holding
    action: Action  # move or exit
    to: str | None
    keep_timers: bool  # those parked there keep their wake-up time


@dataclass
class Migrated:
    moved: int = 0
    exited: int = 0
    version_ids: set[int] = field(default_factory=set)  # whose counters changed


@dataclass(frozen=True)
class Problem:
    node: str
    message: str


class MigrationRefused(Invalid):
    """The migration cannot be applied as asked; nothing was published."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(
            ngettext(
                "The plan for the contacts inside was refused (%(count)s problem); "
                "nothing was published.",
                "The plan for the contacts inside was refused (%(count)s problems); "
                "nothing was published.",
                len(problems),
            )
            % {"count": format_number(len(problems))}
        )
        self.problems = problems

    def detail(self) -> object:
        return {
            "message": self.message,
            "problems": [{"node": p.node, "message": p.message} for p in self.problems],
        }


def check(
    session: Session, scenario_id: int, migration: Migration, target: Plan, graph: dict[str, Any]
) -> list[Step]:
    """The steps to apply, or MigrationRefused listing every problem. ``target``: the plan
    of the version being published, ``graph`` its document (for the blocks' names)."""
    held: dict[str, list[Holding]] = defaultdict(list)
    for holding in holdings(session, scenario_id):
        held[holding.node_id].append(holding)
    versions = _versions(session, scenario_id)
    plans: dict[int, Plan] = {}
    known = set(target.blocks).union(*(_node_ids(v.graph) for v in versions.values()))
    found: list[tuple[str, str, str]] = []  # (key, what is wrong, the block it names)
    steps: list[Step] = []
    for node_id, choice in migration.choices.items():
        if node_id not in known:
            found.append((node_id, "unknown", node_id))
        elif choice.action is Action.stay:
            continue  # nothing to do, even where nobody is left: a plan a moment old is fine
        elif node_id not in held:
            found.append((node_id, "empty", node_id))
        elif choice.action is Action.exit:
            steps += [Step(h, Action.exit, None, False) for h in held[node_id]]
        else:
            to = choice.to or node_id
            block = target.blocks.get(to)
            if block is None:
                found.append((node_id, "missing", to))
            elif block.type == "trigger":
                found.append((node_id, "trigger", to))
            else:
                for h in held[node_id]:
                    source = _block(plans, versions.get(h.version_id), h.node_id)
                    keep = migration.timers is Timers.keep and same_delay(source, block)
                    steps.append(Step(h, Action.move, to, keep))
    if found:
        raise MigrationRefused(_problems(session, found, versions, graph))
    return steps


def same_delay(source: Block | None, target: Block) -> bool:
    """Whether a contact parked on ``source`` can keep waiting on ``target`` as it was."""
    if source is None or source.type != "delay" or source.type != target.type:
        return False
    if source.kind != target.kind:
        return False
    if source.kind == "wait_for_event":  # the wait's event and instance are in the row
        before, after = source.config, target.config
        if isinstance(before, WaitForEventConfig) and isinstance(after, WaitForEventConfig):
            return (before.event, before.match_key) == (after.event, after.match_key)
        return False
    return True


def apply(
    session: Session,
    steps: list[Step],
    version: ScenarioVersion,
    graph: dict[str, Any],
    now: datetime,
) -> Migrated:
    """Applies the checked steps in the caller's transaction; ``version`` is the one the
    moved contacts continue on, ``graph`` its document."""
    assert version.id is not None
    done = Migrated()
    if not steps:
        return done
    names = ref_names(session)
    versions = _versions(session, version.scenario_id)
    sources = {step.source.version_id for step in steps}
    labels = {vid: words.english_labels(versions[vid].graph, names) for vid in sources}
    labels[version.id] = words.english_labels(graph, names)
    scenario_id = version.scenario_id
    for step in steps:
        source = step.source
        left_from = (scenario_id, source.version_id, source.node_id)
        if step.action is Action.exit:
            rows = _exit(session, scenario_id, source, now)
            _log(session, rows, left_from, words.left(), now)
            done.exited += len(rows)
        else:
            assert step.to is not None
            kept, restarted = _move(session, version, step, now)
            detail = words.moved(
                from_label=labels.get(source.version_id, {}).get(source.node_id, source.node_id),
                from_version=source.version,
                from_version_id=source.version_id,
                from_node=source.node_id,
                to_label=labels[version.id].get(step.to, step.to),
                to_version_id=version.id,
                to_node=step.to,
            )
            # Still parked, a kept contact's arrival at the target is this row; a restarted
            # one arrives when the engine runs the target, which writes (and counts) its row.
            _log(session, kept, (scenario_id, version.id, step.to), detail, now)
            _log(session, restarted, left_from, detail, now)
            rows = kept + restarted
            done.moved += len(rows)
            done.version_ids.add(version.id)
        if rows:
            done.version_ids.add(source.version_id)
    return done


def _here(scenario_id: int, source: Holding) -> list[Any]:
    return [
        ENROLLMENTS.c.scenario_id == scenario_id,
        ENROLLMENTS.c.version_id == source.version_id,
        ENROLLMENTS.c.node_id == source.node_id,
    ]


RETURNED = (ENROLLMENTS.c.id, ENROLLMENTS.c.contact_id, ENROLLMENTS.c.seq)


def _exit(session: Session, scenario_id: int, source: Holding, now: datetime) -> list[Any]:
    return list(
        session.execute(
            update(ENROLLMENTS)
            .where(*_here(scenario_id, source), ENROLLMENTS.c.state.in_(UNDER_WAY))
            .values(
                state=EnrollmentState.exited.value,
                seq=ENROLLMENTS.c.seq + 1,
                wake_at=None,
                wait_event=None,
                wait_key=None,
                wake_port=None,
                ended_at=now,
                updated_at=now,
            )
            .returning(*RETURNED)
        ).all()
    )


def _move(
    session: Session, version: ScenarioVersion, step: Step, now: datetime
) -> tuple[list[Any], list[Any]]:
    """Moves the journeys; returns those still parked (timers kept) and those due now."""
    here = _here(version.scenario_id, step.source)
    onto = {"version_id": version.id, "node_id": step.to, "seq": ENROLLMENTS.c.seq + 1}
    kept: list[Any] = []
    if step.keep_timers:
        # Wake-up, awaited event and when the wait began (read from updated_at) stay.
        kept = list(
            session.execute(
                update(ENROLLMENTS)
                .where(*here, ENROLLMENTS.c.state == WAITING)
                .values(**onto)
                .returning(*RETURNED)
            ).all()
        )
    # As if just arrived at the target: its step runs (a delay parks anew).
    rest = ENROLLMENTS.c.state == ACTIVE if step.keep_timers else ENROLLMENTS.c.state.in_(UNDER_WAY)
    restarted = list(
        session.execute(
            update(ENROLLMENTS)
            .where(*here, rest)
            .values(
                **onto,
                state=ACTIVE,
                wake_at=now,
                wait_event=None,
                wait_key=None,
                wake_port=None,
                attempts=0,
                last_error=None,
                updated_at=now,
            )
            .returning(*RETURNED)
        ).all()
    )
    return kept, restarted


def _log(
    session: Session,
    rows: list[Any],
    at: tuple[int, int, str],
    detail: dict[str, Any],
    now: datetime,
) -> None:
    """One ``migrated`` step row per journey returned, at (scenario, version, block)."""
    scenario_id, version_id, node_id = at
    insert_rows(
        session,
        STEP_LOG,
        [
            {
                "enrollment_id": row.id,
                "scenario_id": scenario_id,
                "version_id": version_id,
                "contact_id": row.contact_id,
                "node_id": node_id,
                "seq": row.seq,
                "outcome": StepOutcome.migrated.value,
                "detail": detail,
                "at": now,
            }
            for row in rows
        ],
    )


def _versions(session: Session, scenario_id: int) -> dict[int, ScenarioVersion]:
    found = session.exec(
        select(ScenarioVersion).where(col(ScenarioVersion.scenario_id) == scenario_id)
    ).all()
    return {v.id: v for v in found if v.id is not None}


def _node_ids(graph: dict[str, Any]) -> set[str]:
    nodes = graph.get("nodes") if isinstance(graph, dict) else None
    return {str(n["id"]) for n in nodes or () if isinstance(n, dict) and "id" in n}


def _block(plans: dict[int, Plan], version: ScenarioVersion | None, node_id: str) -> Block | None:
    """A block as its version runs it (None when its plan does not have it)."""
    if version is None or version.id is None:
        return None
    if version.id not in plans:
        plans[version.id] = Plan.model_validate(version.plan)
    return plans[version.id].blocks.get(node_id)


def _problems(
    session: Session,
    found: list[tuple[str, str, str]],
    versions: dict[int, ScenarioVersion],
    graph: dict[str, Any],
) -> list[Problem]:
    """The problems in the reader's words, each block named as the canvas shows it."""
    names = ref_names(session)
    shown: dict[str, str] = {}
    for version in sorted(versions.values(), key=lambda v: v.number):
        shown.update(words.block_labels(version.graph, names))
    new = words.block_labels(graph, names)
    problems = []
    for key, wrong, node in found:
        label = new.get(node) or shown.get(node) or node
        if wrong == "unknown":
            message = _("There is no block “%(block)s” in this scenario.") % {"block": node}
        elif wrong == "empty":
            message = _("Nobody is in “%(block)s” now.") % {"block": label}
        elif wrong == "missing":
            message = _(
                "“%(block)s” is not in the version you are publishing: choose one of its blocks."
            ) % {"block": label}
        else:
            message = _(
                "Contacts cannot be moved into a trigger (“%(block)s”): choose a block after it."
            ) % {"block": label}
        problems.append(Problem(key, message))
    return problems
