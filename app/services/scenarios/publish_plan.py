"""What publishing the draft would change (CONTRACTS-2 §B), read before anyone decides.

The blocks added, removed and changed from the live version to the draft
(:func:`app.graph.diff.diff_graphs`), every block of a running version where contacts are
parked now (one grouped count: :mod:`holdings`) with whether the draft keeps a block of that
id, and the draft's issues as activation would list them. Reads only.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field
from sqlalchemy import func
from sqlmodel import Session, col, select

from app.graph import Issue
from app.graph.diff import diff_graphs
from app.models import ScenarioVersion
from app.services.scenarios import migration_words as words
from app.services.scenarios.holdings import holdings
from app.services.scenarios.ref_names import ref_names
from app.services.scenarios.scenarios import EMPTY_GRAPH, draft_issues, get_scenario, live_version


class HoldingOut(BaseModel):
    node: str = Field(description="The block's id: the key to name it by in a migration.")
    version: int = Field(description="The version whose contacts these are.")
    name: str = Field(description="The block as the canvas sums it up, e.g. “Wait 3 days”.")
    waiting: int = Field(description="Journeys under way there now (parked or due).")
    kept: bool = Field(description="The draft has a block of the same id.")
    changed: bool = Field(description="Kept, but it does something else in the draft.")
    default: Literal["stay"] = "stay"


class PublishPlan(BaseModel):
    from_version: int | None = Field(description="The live version; null before the first.")
    to_version: int = Field(
        description="The version the draft is published as (the live one when unchanged)."
    )
    added: list[str]
    removed: list[str]
    changed: list[str]
    settings_changed: bool = Field(description="Re-entry, cooldown or goal changed.")
    names: dict[str, str] = Field(
        description="The added, removed and changed blocks as the canvas sums them up."
    )
    holding: list[HoldingOut]
    issues: list[Issue]


def publish_plan(session: Session, scenario_id: int) -> PublishPlan:
    scenario = get_scenario(session, scenario_id)
    draft = scenario.draft
    live = live_version(session, scenario)
    before = live.graph if live is not None else EMPTY_GRAPH
    diff = diff_graphs(before, draft)
    names = ref_names(session)
    draft_labels = words.block_labels(draft, names)
    live_labels = words.block_labels(before, names)
    if live is not None and live.graph == draft:
        to_version = live.number
    else:
        to_version = _last_number(session, scenario_id) + 1
    versions = {
        v.id: v
        for v in session.exec(
            select(ScenarioVersion).where(col(ScenarioVersion.scenario_id) == scenario_id)
        ).all()
    }
    held = []
    per_version: dict[int, tuple[dict[str, str], list[str]]] = {}
    for h in holdings(session, scenario_id):
        if h.version_id not in per_version:
            graph = versions[h.version_id].graph
            per_version[h.version_id] = (
                words.block_labels(graph, names),
                diff_graphs(graph, draft).changed,
            )
        labels, changed = per_version[h.version_id]
        held.append(
            HoldingOut(
                node=h.node_id,
                version=h.version,
                name=labels.get(h.node_id, h.node_id),
                waiting=h.contacts,
                kept=h.node_id in draft_labels,
                changed=h.node_id in changed,
            )
        )
    shown = {node: live_labels[node] for node in diff.removed if node in live_labels}
    drawn = diff.added + diff.changed
    shown |= {node: draft_labels[node] for node in drawn if node in draft_labels}
    return PublishPlan(
        from_version=live.number if live is not None else None,
        to_version=to_version,
        added=diff.added,
        removed=diff.removed,
        changed=diff.changed,
        settings_changed=diff.settings_changed,
        names=shown,
        holding=held,
        issues=draft_issues(session, scenario),
    )


def _last_number(session: Session, scenario_id: int) -> int:
    query = select(func.max(ScenarioVersion.number)).where(
        col(ScenarioVersion.scenario_id) == scenario_id
    )
    return int(session.exec(query).one() or 0)
