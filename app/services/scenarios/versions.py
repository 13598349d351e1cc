"""A scenario's version history (CONTRACTS-2 §B): every published version with when, by whom
and what changed from the one before, which one is live and how many contacts it still holds;
one version read on its own, and restored as the draft.

Versions are never changed here. Restoring copies a version's graph into the draft and bumps
``draft_revision``, so an editor open on the old draft is refused its next save (409) instead
of writing over the restored one; nothing is published until the marketer publishes.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from app.graph import RefNames
from app.graph.diff import diff_graphs
from app.i18n import _, format_number, ngettext
from app.models import Scenario, ScenarioVersion, User
from app.services.errors import NotFound
from app.services.scenarios.graph_layout import layout
from app.services.scenarios.holdings import holdings as parked_contacts
from app.services.scenarios.ref_names import ref_names
from app.services.scenarios.scenarios import editable_scenario, not_archived

NAME_LENGTH = 60  # a block's name in a one-line summary; the canvas shows the rest


@dataclass(frozen=True)
class BlockRef:
    id: str
    name: str  # as the canvas names it: its summary ("Wait 3 days"), else its title


@dataclass(frozen=True)
class Changes:
    """What a version changed from the one before it (``first``: there was none)."""

    first: bool
    added: list[BlockRef]
    removed: list[BlockRef]
    changed: list[BlockRef]
    settings_changed: bool
    moved_only: bool  # the same blocks and links, only placed elsewhere on the canvas

    def summary(self) -> str:
        """One line in plain words, in the speaker's language: "2 blocks added, “Wait 3
        days” changed"."""
        if self.first:
            return _("First version")
        added, removed, changed = len(self.added), len(self.removed), len(self.changed)
        parts = [
            _part(
                self.added,
                _("“%(name)s” added"),
                ngettext("%(count)s block added", "%(count)s blocks added", added),
            ),
            _part(
                self.removed,
                _("“%(name)s” removed"),
                ngettext("%(count)s block removed", "%(count)s blocks removed", removed),
            ),
            _part(
                self.changed,
                _("“%(name)s” changed"),
                ngettext("%(count)s block changed", "%(count)s blocks changed", changed),
            ),
        ]
        if self.settings_changed:
            parts.append(_("scenario settings changed"))
        line = ", ".join(part for part in parts if part)
        if not line:
            return (
                _("Blocks moved on the canvas, nothing else") if self.moved_only else _("No change")
            )
        return line[0].upper() + line[1:]


def _part(blocks: list[BlockRef], one: str, several: str) -> str:
    # One block is named, as the canvas names it; several are counted, so the line stays one.
    if not blocks:
        return ""
    if len(blocks) == 1:
        return one % {"name": blocks[0].name}
    return several % {"count": format_number(len(blocks))}


@dataclass(frozen=True)
class Author:
    id: int
    name: str
    email: str

    @property
    def shown(self) -> str:
        return self.name or self.email


@dataclass(frozen=True)
class VersionEntry:
    number: int
    published_at: datetime
    author: Author | None  # None: published over the API, or the user was deleted
    live: bool
    holding: int  # contacts still travelling on it (active or waiting)
    changes: Changes
    graph: dict[str, Any]


@dataclass(frozen=True)
class DraftEntry:
    """The draft against the live version: what publishing now would change."""

    revision: int
    updated_at: datetime
    changes: Changes | None  # None before the first activation
    same_as_live: bool


def block_refs(graph: dict[str, Any], names: RefNames | None) -> dict[str, BlockRef]:
    refs = {}
    for box in layout(graph, names).boxes:
        shown = box.summary or box.name
        if len(shown) > NAME_LENGTH:
            shown = shown[: NAME_LENGTH - 1].rstrip() + "…"
        refs[box.id] = BlockRef(box.id, shown)
    return refs


def changes_between(
    before: dict[str, Any] | None, after: dict[str, Any], names: RefNames | None = None
) -> Changes:
    """``after`` against ``before``; removed and changed blocks are named as they were, so
    "“Wait 3 days” changed" names the block one remembers."""
    if before is None:
        return Changes(True, [], [], [], False, False)
    diff = diff_graphs(before, after)
    old, new = block_refs(before, names), block_refs(after, names)

    def ref(refs: dict[str, BlockRef], node_id: str) -> BlockRef:
        return refs.get(node_id) or BlockRef(node_id, node_id)

    return Changes(
        first=False,
        added=[ref(new, node_id) for node_id in diff.added],
        removed=[ref(old, node_id) for node_id in diff.removed],
        changed=[ref(old, node_id) for node_id in diff.changed],
        settings_changed=diff.settings_changed,
        moved_only=diff.is_empty and before != after,
    )


def holdings(session: Session, scenario_id: int) -> dict[int, int]:
    """Contacts still travelling (active or waiting), by version id, for every version at
    once: the publish plan's one grouped count, summed over each version's blocks."""
    held: dict[int, int] = {}
    for parked in parked_contacts(session, scenario_id):
        held[parked.version_id] = held.get(parked.version_id, 0) + parked.contacts
    return held


def _authors(session: Session, versions: list[ScenarioVersion]) -> dict[int, Author]:
    ids = {v.published_by_id for v in versions if v.published_by_id is not None}
    if not ids:
        return {}
    users = session.exec(select(User).where(col(User.id).in_(ids))).all()
    return {u.id: Author(u.id, u.name, u.email) for u in users if u.id is not None}


def history(session: Session, scenario: Scenario) -> list[VersionEntry]:
    """Every version, newest first, each compared with the one published before it."""
    versions = list(
        session.exec(
            select(ScenarioVersion)
            .where(ScenarioVersion.scenario_id == scenario.id)
            .order_by(col(ScenarioVersion.number))
        ).all()
    )
    held = holdings(session, scenario.id or 0)
    authors = _authors(session, versions)
    names = ref_names(session)
    entries = []
    previous: dict[str, Any] | None = None
    for version in versions:
        entries.append(_entry(scenario, version, previous, held, authors, names))
        previous = version.graph
    return entries[::-1]


def _entry(
    scenario: Scenario,
    version: ScenarioVersion,
    previous: dict[str, Any] | None,
    held: dict[int, int],
    authors: dict[int, Author],
    names: RefNames,
) -> VersionEntry:
    return VersionEntry(
        number=version.number,
        published_at=version.published_at,
        author=authors.get(version.published_by_id or 0),
        live=version.number == scenario.live_version,
        holding=held.get(version.id or 0, 0),
        changes=changes_between(previous, version.graph, names),
        graph=version.graph,
    )


def get_version(session: Session, scenario: Scenario, number: int) -> ScenarioVersion:
    found = session.exec(
        select(ScenarioVersion).where(
            ScenarioVersion.scenario_id == scenario.id, ScenarioVersion.number == number
        )
    ).first()
    if found is None:
        raise NotFound(_("This scenario has no version %(version)s.") % {"version": number})
    return found


def version_entry(session: Session, scenario: Scenario, number: int) -> VersionEntry:
    """One version as the history shows it, with its graph."""
    version = get_version(session, scenario, number)
    previous = session.exec(
        select(ScenarioVersion)
        .where(ScenarioVersion.scenario_id == scenario.id, ScenarioVersion.number < number)
        .order_by(col(ScenarioVersion.number).desc())
        .limit(1)
    ).first()
    return _entry(
        scenario,
        version,
        previous.graph if previous is not None else None,
        holdings(session, scenario.id or 0),
        _authors(session, [version]),
        ref_names(session),
    )


def draft_entry(session: Session, scenario: Scenario) -> DraftEntry:
    live = None
    if scenario.live_version is not None:
        live = get_version(session, scenario, scenario.live_version)
    return DraftEntry(
        revision=scenario.draft_revision,
        updated_at=scenario.updated_at,
        changes=None if live is None else changes_between(live.graph, scenario.draft),
        same_as_live=live is not None and live.graph == scenario.draft,
    )


def restore(session: Session, scenario_id: int, number: int, *, now: datetime) -> Scenario:
    """The draft becomes version ``number``'s graph; no version is published and the live
    one keeps running. A draft already equal to it is left as it is (no revision bump, so
    nobody's open editor is sent a conflict for nothing)."""
    scenario = editable_scenario(session, scenario_id)
    version = get_version(session, scenario, number)
    if scenario.draft == version.graph:
        return scenario
    # The revision is bumped in SQL: an editor open on the old draft is refused its next save
    # (409, "changed elsewhere") rather than writing over what was restored.
    result = session.execute(
        update(Scenario)
        .where(col(Scenario.id) == scenario_id, not_archived())
        .values(
            draft=copy.deepcopy(version.graph),
            draft_revision=Scenario.draft_revision + 1,
            updated_at=now,
        )
    )
    if result.rowcount == 0:  # type: ignore[attr-defined]
        editable_scenario(session, scenario_id)  # archived at that moment: refused in words
    session.refresh(scenario)
    return scenario
