"""Scenarios: one editable draft each, immutable published versions, activation and pause.

The draft is saved even when invalid (the canvas autosaves); ``draft_revision`` makes saves
optimistic: a save that names a stale revision changes nothing and is answered with a conflict.
Activation validates and compiles the draft and publishes it as version N+1; contacts already
travelling stay on the version they entered.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, update
from sqlalchemy.exc import IntegrityError
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
from app.services.scenarios.bundles import ImportReport, ScenarioBundle, install_dependencies

EMPTY_GRAPH: dict[str, Any] = {"schema": 1, "nodes": [], "edges": [], "settings": {}}


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


def known_refs(session: Session) -> KnownRefs:
    messages = session.exec(select(MessageTemplate.key, MessageTemplate.channel)).all()
    lists = session.exec(select(ContactList.key)).all()
    segments = session.exec(select(Segment.key)).all()
    return KnownRefs(
        messages={key: str(channel) for key, channel in messages},  # type: ignore[misc]
        lists=frozenset(lists),
        segments=frozenset(segments),
        template_problem=template_problem,
    )


def draft_issues(session: Session, scenario: Scenario) -> list[Issue]:
    _, issues = check_draft(scenario.draft, known_refs(session))
    return issues


def get_scenario(session: Session, scenario_id: int) -> Scenario:
    scenario = session.get(Scenario, scenario_id)
    if scenario is None:
        raise NotFound(_("There is no scenario %(id)s.") % {"id": scenario_id})
    return scenario


def list_scenarios(session: Session) -> Sequence[Scenario]:
    return session.exec(select(Scenario).order_by(col(Scenario.updated_at).desc())).all()


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
        .where(col(Scenario.id) == scenario_id, col(Scenario.draft_revision) == revision)
        .values(draft=graph, draft_revision=Scenario.draft_revision + 1, updated_at=now)
    )
    if result.rowcount == 0:  # type: ignore[attr-defined]
        current = get_scenario(session, scenario_id)
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


def activate(
    session: Session, scenario_id: int, *, now: datetime, user_id: int | None = None
) -> tuple[Scenario, ScenarioVersion, list[Issue]]:
    """Publishes the draft as a new version (unless it is the live one already) and runs it.

    Returns the warnings too: they do not block activation but deserve a look.
    """
    scenario = get_scenario(session, scenario_id)
    document, issues = check_draft(scenario.draft, known_refs(session))
    if document is None or has_errors(issues):
        raise ScenarioInvalid(issues)
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
            plan=compile_document(document).model_dump(mode="json", by_alias=True),
            published_at=now,
            published_by_id=user_id,
        )
        session.add(current)
        try:
            with session.begin_nested():
                session.flush()
        except IntegrityError as exc:
            raise Conflict(
                _("Someone activated this scenario at the same moment; reload it.")
            ) from exc
        scenario.live_version = number
    scenario.status = ScenarioStatus.active
    scenario.activated_at = now
    scenario.updated_at = now
    session.add(scenario)
    return scenario, current, [issue for issue in issues if not issue.is_error]


def pause(session: Session, scenario_id: int, *, now: datetime) -> Scenario:
    scenario = get_scenario(session, scenario_id)
    if scenario.status != ScenarioStatus.active:
        raise Invalid(_("Only an active scenario can be paused."))
    scenario.status = ScenarioStatus.paused
    scenario.updated_at = now
    session.add(scenario)
    return scenario
