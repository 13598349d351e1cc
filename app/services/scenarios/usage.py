"""Which scenarios use a list, a segment or a message, before it is deleted.

A scenario that runs (active) refuses the deletion: its contacts would reach a block whose
list or message is gone. A draft, or a paused scenario, only learns of it: its canvas then
shows the issue ("there is no list …") and activation waits until the block is changed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import exists, or_, select
from sqlmodel import Session, col

from app.graph.references import Kind, graph_references
from app.graph.wording import quote
from app.i18n import ngettext
from app.models import Enrollment, EnrollmentState, Scenario, ScenarioStatus, ScenarioVersion
from app.services.errors import Conflict
from app.services.scenarios.scenarios import not_archived


@dataclass(frozen=True)
class Usage:
    """The scenarios, by name, that use one key."""

    live: list[str]  # active scenarios whose running versions use it
    drafts: list[str]  # other scenarios whose draft uses it


def scenarios_using(session: Session, kind: Kind, key: str) -> Usage:
    """Who uses ``key``: an active scenario through the version new contacts enter or one that
    contacts are still on; any scenario not archived through its draft."""
    live: set[int] = set()
    running = (
        exists()
        .where(col(Enrollment.scenario_id) == col(ScenarioVersion.scenario_id))
        .where(col(Enrollment.version_id) == col(ScenarioVersion.id))
        .where(col(Enrollment.state).in_([EnrollmentState.active, EnrollmentState.waiting]))
    )
    versions = session.execute(
        select(col(ScenarioVersion.scenario_id), col(ScenarioVersion.graph))
        .join(Scenario, col(Scenario.id) == col(ScenarioVersion.scenario_id))
        .where(col(Scenario.status) == ScenarioStatus.active, not_archived())
        .where(or_(col(ScenarioVersion.number) == col(Scenario.live_version), running))
    )
    for scenario_id, graph in versions:
        if key in graph_references(graph).of(kind):
            live.add(scenario_id)
    scenarios: Sequence[Scenario] = session.scalars(
        select(Scenario).where(not_archived()).order_by(col(Scenario.name))
    ).all()
    return Usage(
        live=[s.name for s in scenarios if s.id in live],
        drafts=[
            s.name
            for s in scenarios
            if s.id not in live and key in graph_references(s.draft).of(kind)
        ],
    )


def refuse_if_live(usage: Usage, name: str) -> None:
    """Conflict naming the live scenarios, when there are any."""
    if not usage.live:
        return
    words = {"name": quote(name), "scenarios": ", ".join(quote(s) for s in usage.live)}
    message = ngettext(
        "%(name)s is used by the live scenario %(scenarios)s: pause it or change its blocks first.",
        "%(name)s is used by the live scenarios %(scenarios)s: "
        "pause them or change their blocks first.",
        len(usage.live),
    )
    raise Conflict(message % words)


def drafts_warning(usage: Usage) -> str | None:
    """What deleting tells about the drafts that used the key, or None."""
    if not usage.drafts:
        return None
    names = ", ".join(quote(s) for s in usage.drafts)
    return ngettext(
        "The draft %(scenarios)s used it: its block now shows an issue to fix.",
        "The drafts %(scenarios)s used it: their blocks now show an issue to fix.",
        len(usage.drafts),
    ) % {"scenarios": names}
