"""Scenarios: one editable draft each, immutable published versions, activation and pause.

The draft is saved even when invalid (the canvas autosaves); ``draft_revision`` makes saves
optimistic: a save that names a stale revision changes nothing and is answered with a conflict.
Activation validates and compiles the draft and publishes it as version N+1; contacts already
travelling stay on the version they entered, unless the publish migrates them (``migration``).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import delete, func, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlmodel import Session, col, select

from app.graph import Issue, KnownRefs, check_draft, compile_document, has_errors
from app.graph.structure import structure_problems
from app.i18n import _, format_number, ngettext
from app.models import (
    ContactList,
    MessageTemplate,
    Scenario,
    ScenarioStatus,
    ScenarioVersion,
    Segment,
)
from app.scenario_templates import scenario_templates
from app.services.errors import Conflict, Invalid, NotFound
from app.services.messaging.rendering import template_problem
from app.services.scenarios import lint_facts
from app.services.scenarios import migration as migration_service
from app.services.scenarios.bundles import ImportReport, ScenarioBundle, install_dependencies
from app.services.scenarios.migration import Migrated, Migration
from app.services.scenarios.ref_names import block_titles, ref_names

RETRYABLE = frozenset({"40P01", "40001"})  # deadlock detected, serialization failure
EMPTY_GRAPH: dict[str, Any] = {"schema": 1, "nodes": [], "edges": [], "settings": {}}
NAME_LENGTH = 200


class ScenarioInvalid(Invalid):
    """Activation refused: the issues say why, block by block."""

    def __init__(self, issues: list[Issue]) -> None:
        errors = sum(1 for issue in issues if issue.is_error)
        super().__init__(
            ngettext(
                "This scenario cannot be activated yet: %(count)s problem to fix first.",
                "This scenario cannot be activated yet: %(count)s problems to fix first.",
                errors,
            )
            % {"count": format_number(errors)}
        )
        self.issues = issues

    def detail(self) -> object:
        return {
            "message": self.message,
            "issues": [issue.model_dump(mode="json") for issue in self.issues],
        }


class ScenarioArchived(Conflict):
    """Refused: the scenario was archived (deleted after it ran) and is kept for its history."""

    def __init__(self, name: str) -> None:
        super().__init__(
            _(
                "“%(name)s” is archived: it keeps its history but cannot run or change again. "
                "Duplicate it to start again from its journey."
            )
            % {"name": name}
        )


def known_refs(session: Session) -> KnownRefs:
    messages = session.exec(select(MessageTemplate.key, MessageTemplate.channel)).all()
    lists = session.exec(select(ContactList.key)).all()
    segments = session.exec(select(Segment.key)).all()
    return KnownRefs(
        messages={key: str(channel) for key, channel in messages},  # type: ignore[misc]
        lists=frozenset(lists),
        segments=frozenset(segments),
        template_problem=template_problem,
        names=ref_names(session),
        block_titles=block_titles(),
        webhook_refusal=lint_facts.webhook_refusal,
        message_facts=lambda keys: lint_facts.message_facts(session, keys),
        attribute_shares=lambda names: lint_facts.attribute_shares(session, names),
    )


def draft_issues(session: Session, scenario: Scenario) -> list[Issue]:
    _, issues = check_draft(scenario.draft, known_refs(session))
    return issues


def get_scenario(session: Session, scenario_id: int) -> Scenario:
    scenario = session.get(Scenario, scenario_id)
    if scenario is None:
        raise NotFound(_("There is no scenario %(id)s.") % {"id": scenario_id})
    return scenario


def editable_scenario(session: Session, scenario_id: int) -> Scenario:
    """The scenario, unless it is archived: an archived one is kept for its history only."""
    scenario = get_scenario(session, scenario_id)
    if scenario.archived_at is not None:
        raise ScenarioArchived(scenario.name)
    return scenario


def list_scenarios(session: Session) -> Sequence[Scenario]:
    """The scenarios people manage: archived ones are left out (their history is not)."""
    return session.exec(
        select(Scenario).where(not_archived()).order_by(col(Scenario.updated_at).desc())
    ).all()


def not_archived() -> Any:
    """The filter for every list of scenarios a person picks from or counts."""
    return col(Scenario.archived_at).is_(None)


def create_scenario(
    session: Session,
    *,
    name: str,
    graph: dict[str, Any] | None,
    now: datetime,
    description: str = "",
) -> Scenario:
    name = name.strip()
    if not name:
        raise Invalid(_("Give the scenario a name."))
    if graph is not None:
        check_structure(graph)
    scenario = Scenario(
        name=name[:200],
        description=description,
        draft=graph if graph is not None else dict(EMPTY_GRAPH),
        created_at=now,
        updated_at=now,
    )
    session.add(scenario)
    session.flush()
    return scenario


def import_scenario(
    session: Session, bundle: ScenarioBundle, *, now: datetime, name: str | None = None
) -> tuple[Scenario, ImportReport]:
    """A new draft from a bundle, creating the lists and messages it needs that are missing."""
    check_structure(bundle.graph)
    report = install_dependencies(session, bundle)
    scenario = create_scenario(
        session,
        name=name or bundle.name,
        graph=bundle.graph,
        now=now,
        description=bundle.description,
    )
    scenario.template_key = bundle.key
    return scenario, report


def create_from_template(
    session: Session, template_key: str, *, now: datetime, name: str | None = None
) -> tuple[Scenario, ImportReport]:
    template = scenario_templates().get(template_key)
    if template is None:
        choices = ", ".join(sorted(scenario_templates()))
        raise Invalid(
            _("There is no template “%(key)s”. Choose one of: %(choices)s.")
            % {"key": template_key, "choices": choices}
        )
    return import_scenario(session, template, now=now, name=name)


def save_draft(
    session: Session,
    scenario_id: int,
    graph: dict[str, Any],
    *,
    revision: int,
    now: datetime,
) -> Scenario:
    """Saves the draft if ``revision`` is still the current one (compare-and-set in SQL)."""
    check_structure(graph)
    result = session.execute(
        update(Scenario)
        .where(
            col(Scenario.id) == scenario_id,
            col(Scenario.draft_revision) == revision,
            not_archived(),
        )
        .values(draft=graph, draft_revision=Scenario.draft_revision + 1, updated_at=now)
    )
    if result.rowcount == 0:  # type: ignore[attr-defined]
        current = editable_scenario(session, scenario_id)
        raise Conflict(
            _(
                "This scenario changed elsewhere (revision %(current)s, you sent %(sent)s). "
                "Reload it: nothing was overwritten."
            )
            % {"current": current.draft_revision, "sent": revision}
        )
    scenario = get_scenario(session, scenario_id)
    session.refresh(scenario)
    return scenario


def check_structure(graph: object) -> None:
    """Refuses (422) a document that is not shaped like a scenario; see app.graph.structure."""
    problems = structure_problems(graph)
    if problems:
        shown = "; ".join(problems)
        raise Invalid(_("The scenario was not saved: %(problems)s.") % {"problems": shown})


def live_version(session: Session, scenario: Scenario) -> ScenarioVersion | None:
    if scenario.live_version is None:
        return None
    return session.exec(
        select(ScenarioVersion).where(
            ScenarioVersion.scenario_id == scenario.id,
            ScenarioVersion.number == scenario.live_version,
        )
    ).one()


@dataclass(frozen=True)
class Published:
    """What an activation did: the version now live, the draft's warnings (they do not block
    activation but deserve a look) and, when one was asked, what the migration moved."""

    scenario: Scenario
    version: ScenarioVersion
    warnings: list[Issue]
    migrated: Migrated | None = None


class StalePlan(Conflict):
    """The publish plan was made against a version that is no longer the live one."""

    def __init__(self, live: int | None, planned: int) -> None:
        super().__init__(
            _(
                "Version %(live)s was published since your plan was made against version "
                "%(planned)s: look at the plan again. Nothing was changed."
            )
            % {"live": live if live is not None else "—", "planned": planned}
        )


def activate(
    session: Session, scenario_id: int, *, now: datetime, user_id: int | None = None
) -> tuple[Scenario, ScenarioVersion, list[Issue]]:
    """Publishes the draft as a new version (unless it is the live one already) and runs it;
    the contacts inside stay on their versions. Returns the draft's warnings too."""
    done = publish(session, scenario_id, now=now, user_id=user_id)
    return done.scenario, done.version, done.warnings


def publish(
    session: Session,
    scenario_id: int,
    *,
    now: datetime,
    user_id: int | None = None,
    migration: Migration | None = None,
    from_version: int | None = None,
) -> Published:
    """Publishes the draft as a new version (unless it is the live one already), runs it,
    and applies ``migration`` to the contacts already inside (CONTRACTS-2 §B).

    Every refusal comes before the first write: the draft's errors and a migration that
    cannot be applied (422), a plan made against another live version (``from_version``,
    409). The scenario row is then claimed by a compare-and-set on its live version, so of
    two publishes at once one wins and the other is a 409 — its migration was checked
    against contacts the winner may have moved.
    """
    scenario = editable_scenario(session, scenario_id)
    document, issues = check_draft(scenario.draft, known_refs(session))
    if document is None or has_errors(issues):
        raise ScenarioInvalid(issues)
    if from_version is not None and from_version != scenario.live_version:
        raise StalePlan(scenario.live_version, from_version)
    plan = compile_document(document)
    steps: list[migration_service.Step] = []
    if migration is not None:
        steps = migration_service.check(session, scenario_id, migration, plan, scenario.draft)
    _claim(session, scenario, now)
    current = live_version(session, scenario)
    if current is None or current.graph != scenario.draft:
        number = (
            session.exec(
                select(func.max(ScenarioVersion.number)).where(
                    ScenarioVersion.scenario_id == scenario.id
                )
            ).one()
            or 0
        ) + 1
        current = ScenarioVersion(
            scenario_id=scenario_id,
            number=number,
            graph=scenario.draft,
            plan=plan.model_dump(mode="json", by_alias=True),
            published_at=now,
            published_by_id=user_id,
        )
        session.add(current)
        try:
            with session.begin_nested():
                session.flush()
        except IntegrityError as exc:
            raise Conflict(_same_moment()) from exc
        scenario.live_version = number
    migrated = None
    if migration is not None:
        migrated = _migrate(session, steps, current, now)
    scenario.status = ScenarioStatus.active
    scenario.activated_at = now
    scenario.updated_at = now
    session.add(scenario)
    warnings = [issue for issue in issues if not issue.is_error]
    return Published(scenario, current, warnings, migrated)


def _same_moment() -> str:
    return _("Someone activated this scenario at the same moment; reload it.")


def _claim(session: Session, scenario: Scenario, now: datetime) -> None:
    """Locks the scenario's row for this transaction, unless its live version changed since
    it was read: then another publish got there first (409, nothing written)."""
    same_live = (
        col(Scenario.live_version).is_(None)
        if scenario.live_version is None
        else col(Scenario.live_version) == scenario.live_version
    )
    claimed = session.execute(
        update(Scenario)
        .where(col(Scenario.id) == scenario.id, same_live, not_archived())
        .values(updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount == 0:  # type: ignore[attr-defined]
        raise Conflict(_same_moment())


def _migrate(
    session: Session, steps: list[migration_service.Step], version: ScenarioVersion, now: datetime
) -> Migrated:
    try:
        return migration_service.apply(session, steps, version, version.graph, now)
    except DBAPIError as exc:
        # PostgreSQL cancelled this transaction to break a deadlock with the engine moving
        # the same journeys: nothing of it is written; the marketer can publish again.
        if getattr(exc.orig, "sqlstate", None) not in RETRYABLE:
            raise
        raise Conflict(
            _("Contacts were moving through this scenario at that very moment; publish again.")
        ) from exc


def pause(session: Session, scenario_id: int, *, now: datetime) -> Scenario:
    scenario = get_scenario(session, scenario_id)
    if scenario.status != ScenarioStatus.active:
        raise Invalid(_("Only an active scenario can be paused."))
    scenario.status = ScenarioStatus.paused
    scenario.updated_at = now
    session.add(scenario)
    return scenario


class Removal(StrEnum):
    """What deleting a scenario did: one that never ran is gone, one that ran is archived."""

    deleted = "deleted"
    archived = "archived"


def has_run(scenario: Scenario) -> bool:
    """Whether the scenario was ever activated: then contacts may have travelled through it."""
    return scenario.status != ScenarioStatus.draft or scenario.live_version is not None


def scenario_name(name: str) -> str:
    """A name as typed, trimmed; refused (422) when empty or too long — never cut short."""
    cleaned = name.strip()
    if not cleaned:
        raise Invalid(_("Give the scenario a name."))
    if len(cleaned) > NAME_LENGTH:
        raise Invalid(
            _("A scenario’s name has at most %(count)s characters.")
            % {"count": format_number(NAME_LENGTH)}
        )
    return cleaned


def rename(
    session: Session,
    scenario_id: int,
    *,
    now: datetime,
    name: str | None = None,
    description: str | None = None,
) -> Scenario:
    """A new name or description; the published versions keep running as they are."""
    scenario = editable_scenario(session, scenario_id)
    if name is not None:
        scenario.name = scenario_name(name)
    if description is not None:
        scenario.description = description.strip()
    scenario.updated_at = now
    session.add(scenario)
    return scenario


def copy_name(name: str) -> str:
    """“<name> (copy)” in the reader's language, shortened to fit the name column."""
    named = _("%(name)s (copy)") % {"name": name}
    overflow = len(named) - NAME_LENGTH
    if overflow > 0:
        named = _("%(name)s (copy)") % {"name": name[: len(name) - overflow - 1].rstrip() + "…"}
    return named


def duplicate(session: Session, scenario_id: int, *, now: datetime) -> Scenario:
    """A new draft with the same journey (as drawn), name and description; nothing is published
    and nobody travels through it until it is activated. An archived scenario can be copied:
    that is how one that ran starts again."""
    original = get_scenario(session, scenario_id)
    scenario = Scenario(
        name=copy_name(original.name),
        description=original.description,
        draft=copy.deepcopy(original.draft),
        template_key=original.template_key,
        created_at=now,
        updated_at=now,
    )
    session.add(scenario)
    session.flush()
    return scenario


def remove(session: Session, scenario_id: int, *, now: datetime) -> Removal:
    """Deletes a draft that never ran; archives one that did (hidden from the lists, its
    journeys, step log and statistics kept). An active scenario is refused: pause it first.

    Both writes are compare-and-set in SQL, so an activation at the same moment either
    happens before (and the removal is refused) or finds the scenario gone or archived.
    """
    scenario = get_scenario(session, scenario_id)
    if scenario.archived_at is not None:
        return Removal.archived
    if scenario.status == ScenarioStatus.active:
        raise Conflict(
            _("“%(name)s” is active: pause it first, then delete it.") % {"name": scenario.name}
        )
    if not has_run(scenario):
        result = session.execute(
            delete(Scenario).where(
                col(Scenario.id) == scenario_id,
                col(Scenario.status) == ScenarioStatus.draft,
                col(Scenario.live_version).is_(None),
            )
        )
        removal = Removal.deleted
    else:
        result = session.execute(
            update(Scenario)
            .where(
                col(Scenario.id) == scenario_id,
                col(Scenario.status) != ScenarioStatus.active,
                not_archived(),
            )
            .values(archived_at=now, updated_at=now)
        )
        removal = Removal.archived
    if result.rowcount == 0:  # type: ignore[attr-defined]
        raise Conflict(_("This scenario changed at the same moment; reload it and try again."))
    if removal is Removal.deleted:
        session.expunge(scenario)
    else:
        session.expire(scenario)  # read archived_at back from the row just written
    return removal
