"""A scenario's version history over the API (CONTRACTS-2 §B): the published versions with
their date, author, changes and holdings, one version with its graph, and restoring one as
the draft."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from app.deps import SessionDep
from app.graph import Issue
from app.inputs import Int32
from app.services.scenarios import scenarios as scenario_service
from app.services.scenarios import versions as service

router = APIRouter(tags=["scenarios"])


class BlockOut(BaseModel):
    id: str
    name: str = Field(description="As the canvas names the block, e.g. “Wait 3 days”.")


class ChangesOut(BaseModel):
    added: list[BlockOut]
    removed: list[BlockOut]
    changed: list[BlockOut] = Field(description="Settings or wiring changed; moves do not count.")
    settings_changed: bool = Field(description="Re-entry, cooldown or goal changed.")


class AuthorOut(BaseModel):
    id: int
    name: str
    email: str


class VersionOut(BaseModel):
    number: int
    published_at: datetime
    published_by: AuthorOut | None = Field(
        description="Who published it; null when published over the API or the user is gone."
    )
    live: bool = Field(description="The version new contacts enter.")
    holding: int = Field(description="Contacts still travelling on it (active or waiting).")
    summary: str = Field(description="What changed from the version before, in one line.")
    changes: ChangesOut | None = Field(description="Null for the first version.")


class VersionWithGraph(VersionOut):
    graph: dict[str, Any]


class Restored(BaseModel):
    revision: int = Field(description="The draft's new revision.")
    restored_from: int
    live_version: int | None = Field(description="Unchanged: restoring publishes nothing.")
    issues: list[Issue]


def _out(entry: service.VersionEntry) -> dict[str, Any]:
    changes = entry.changes
    author = entry.author
    return {
        "number": entry.number,
        "published_at": entry.published_at,
        "published_by": None
        if author is None
        else AuthorOut(id=author.id, name=author.name, email=author.email),
        "live": entry.live,
        "holding": entry.holding,
        "summary": changes.summary(),
        "changes": None
        if changes.first
        else ChangesOut(
            added=[BlockOut(id=b.id, name=b.name) for b in changes.added],
            removed=[BlockOut(id=b.id, name=b.name) for b in changes.removed],
            changed=[BlockOut(id=b.id, name=b.name) for b in changes.changed],
            settings_changed=changes.settings_changed,
        ),
    }


@router.get("/scenarios/{scenario_id}/versions", response_model=list[VersionOut])
def list_versions(scenario_id: Int32, session: SessionDep) -> list[VersionOut]:
    """Every published version, newest first."""
    scenario = scenario_service.get_scenario(session, scenario_id)
    return [VersionOut(**_out(entry)) for entry in service.history(session, scenario)]


@router.get("/scenarios/{scenario_id}/versions/{number}", response_model=VersionWithGraph)
def get_version(scenario_id: Int32, number: Int32, session: SessionDep) -> VersionWithGraph:
    scenario = scenario_service.get_scenario(session, scenario_id)
    entry = service.version_entry(session, scenario, number)
    return VersionWithGraph(**_out(entry), graph=entry.graph)


@router.post("/scenarios/{scenario_id}/versions/{number}/restore", response_model=Restored)
def restore(scenario_id: Int32, number: Int32, session: SessionDep, request: Request) -> Restored:
    """The draft becomes this version's graph; nothing is published, the live version keeps
    running. Open editors are refused their next save (409) and reload."""
    scenario = service.restore(session, scenario_id, number, now=request.app.state.clock.now())
    return Restored(
        revision=scenario.draft_revision,
        restored_from=number,
        live_version=scenario.live_version,
        issues=scenario_service.draft_issues(session, scenario),
    )
