"""Scenarios over the API: drafts, activation, pause, stats, export and import (DESIGN §6)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Body, Query, Request, status
from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.deps import SessionDep
from app.graph import Issue
from app.inputs import Int32, Int64
from app.models import Scenario
from app.routes.activation_body import (
    ActivateRequest,
    ExistingOut,
    MigratedOut,
    after_activation,
)
from app.scenario_templates import scenario_templates
from app.services.errors import NotFound
from app.services.insights.contacts import block_visitors
from app.services.scenarios import existing_contacts
from app.services.scenarios import manual_enrollment as manual
from app.services.scenarios import publish_plan as plan_service
from app.services.scenarios import scenarios as service
from app.services.scenarios.bundles import ImportReport, ScenarioBundle, export_bundle
from app.services.scenarios.manual_enrollment import Target
from app.services.scenarios.publish_plan import PublishPlan
from app.services.scenarios.stats import ScenarioStats, find_version, scenario_stats

router = APIRouter(tags=["scenarios"])


class ScenarioCreate(BaseModel):
    name: str | None = Field(default=None, max_length=200)
    description: str = ""
    graph: dict[str, Any] | None = None
    template: str | None = None

    @model_validator(mode="after")
    def _one_source(self) -> ScenarioCreate:
        if self.graph is not None and self.template is not None:
            raise ValueError("give either a graph or a template, not both")
        if self.template is None and not (self.name or "").strip():
            raise ValueError("a scenario needs a name")
        return self


class ScenarioPatch(BaseModel):
    # Like the lists', segments' and messages' renames: a key it does not know (a status, a
    # graph) is a 422, not a 200 that quietly changed only the name.
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=2000)

    @model_validator(mode="after")
    def _something_to_change(self) -> ScenarioPatch:
        if self.name is None and self.description is None:
            raise ValueError("send a name, a description or both")
        return self


class DraftSave(BaseModel):
    graph: dict[str, Any]
    revision: Int32 = Field(description="The revision you loaded; a stale one gets 409.")


class ScenarioSummary(BaseModel):
    id: int
    name: str
    description: str
    status: str
    revision: int
    live_version: int | None
    template: str | None
    updated_at: datetime
    archived_at: datetime | None = Field(
        description="Set once a scenario that ran is deleted: kept for its history only."
    )


class ScenarioOut(ScenarioSummary):
    graph: dict[str, Any]
    issues: list[Issue]
    created_at: datetime
    installed: ImportReport | None = None


class EnrollRequest(BaseModel):
    """Whom to enroll through the scenario's manual entry point: exactly one of the three."""

    model_config = ConfigDict(extra="forbid", populate_by_name=False)

    contact_ids: list[Int32] | None = Field(default=None, min_length=1, max_length=10_000)
    list_key: str | None = Field(default=None, alias="list", min_length=1, max_length=100)
    segment_key: str | None = Field(default=None, alias="segment", min_length=1, max_length=100)

    @model_validator(mode="after")
    def _one_target(self) -> EnrollRequest:
        given = [v for v in (self.contact_ids, self.list_key, self.segment_key) if v is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of contact_ids, list or segment")
        return self

    def target(self) -> Target:
        return Target(tuple(self.contact_ids or ()), self.list_key, self.segment_key)


class Enrolled(BaseModel):
    enrolled: int
    refused: int = Field(
        description="Kept out by the scenario's re-entry rules (already in, “only once”…)."
    )


class DraftSaved(BaseModel):
    revision: int
    issues: list[Issue]


class Activated(BaseModel):
    status: str
    version: int
    warnings: list[Issue]
    migrated: MigratedOut | None = Field(
        default=None,
        exclude_if=lambda value: value is None,
        description="With a migration: what became of the contacts inside.",
    )


class ActivatedWithExisting(Activated):
    existing: ExistingOut = Field(description="With include_existing: the contacts already there.")


class Paused(BaseModel):
    status: str


class TemplateOut(BaseModel):
    key: str
    name: str
    description: str
    when_to_use: str | None
    graph: dict[str, Any]
    lists: list[str]
    messages: list[str]


def _summary(scenario: Scenario) -> dict[str, Any]:
    return {
        "id": scenario.id,
        "name": scenario.name,
        "description": scenario.description,
        "status": scenario.status,
        "revision": scenario.draft_revision,
        "live_version": scenario.live_version,
        "template": scenario.template_key,
        "updated_at": scenario.updated_at,
        "archived_at": scenario.archived_at,
    }


def _out(
    session: SessionDep, scenario: Scenario, installed: ImportReport | None = None
) -> ScenarioOut:
    return ScenarioOut(
        **_summary(scenario),
        graph=scenario.draft,
        issues=service.draft_issues(session, scenario),
        created_at=scenario.created_at,
        installed=installed,
    )


def _now(request: Request) -> datetime:
    now: datetime = request.app.state.clock.now()
    return now


@router.get("/scenario-templates", response_model=list[TemplateOut])
def list_templates() -> list[TemplateOut]:
    return [
        TemplateOut(
            key=key,
            name=t.name,
            description=t.description,
            when_to_use=t.when_to_use,
            graph=t.graph,
            lists=[spec.key for spec in t.lists],
            messages=[spec.key for spec in t.messages],
        )
        for key, t in scenario_templates().items()
    ]


@router.post("/scenarios", response_model=ScenarioOut, status_code=status.HTTP_201_CREATED)
def create_scenario(body: ScenarioCreate, session: SessionDep, request: Request) -> ScenarioOut:
    if body.template is not None:
        scenario, report = service.create_from_template(
            session, body.template, now=_now(request), name=body.name
        )
        return _out(session, scenario, report)
    scenario = service.create_scenario(
        session,
        name=body.name or "",
        graph=body.graph,
        now=_now(request),
        description=body.description,
    )
    return _out(session, scenario)


@router.get("/scenarios", response_model=list[ScenarioSummary])
def list_scenarios(session: SessionDep) -> list[ScenarioSummary]:
    return [ScenarioSummary(**_summary(s)) for s in service.list_scenarios(session)]


@router.get("/scenarios/{scenario_id}", response_model=ScenarioOut)
def get_scenario(scenario_id: Int32, session: SessionDep) -> ScenarioOut:
    return _out(session, service.get_scenario(session, scenario_id))


@router.patch("/scenarios/{scenario_id}", response_model=ScenarioOut)
def rename_scenario(
    scenario_id: Int32, body: ScenarioPatch, session: SessionDep, request: Request
) -> ScenarioOut:
    """Renames the scenario or changes its description; an archived one is 409."""
    scenario = service.rename(
        session, scenario_id, now=_now(request), name=body.name, description=body.description
    )
    return _out(session, scenario)


@router.post(
    "/scenarios/{scenario_id}/duplicate",
    response_model=ScenarioOut,
    status_code=status.HTTP_201_CREATED,
)
def duplicate_scenario(scenario_id: Int32, session: SessionDep, request: Request) -> ScenarioOut:
    """A new draft with the same journey, named “<name> (copy)”."""
    return _out(session, service.duplicate(session, scenario_id, now=_now(request)))


@router.delete("/scenarios/{scenario_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_scenario(scenario_id: Int32, session: SessionDep, request: Request) -> None:
    """Deletes a draft that never ran, or archives one that did: hidden from the lists, its
    journeys and statistics kept. An active scenario is 409: pause it first."""
    service.remove(session, scenario_id, now=_now(request))


@router.put("/scenarios/{scenario_id}/graph", response_model=DraftSaved)
def save_draft(
    scenario_id: Int32, body: DraftSave, session: SessionDep, request: Request
) -> DraftSaved:
    scenario = service.save_draft(
        session, scenario_id, body.graph, revision=body.revision, now=_now(request)
    )
    return DraftSaved(
        revision=scenario.draft_revision, issues=service.draft_issues(session, scenario)
    )


@router.get("/scenarios/{scenario_id}/publish-plan", response_model=PublishPlan)
def publish_plan(scenario_id: Int32, session: SessionDep) -> PublishPlan:
    """What activating the draft now would change: blocks added, removed and changed since
    the live version, where contacts are parked in every running version (the blocks a
    ``migration`` can name), and the draft's issues."""
    return plan_service.publish_plan(session, scenario_id)


@router.post("/scenarios/{scenario_id}/activate", response_model=Activated | ActivatedWithExisting)
def activate(
    scenario_id: Int32,
    session: SessionDep,
    request: Request,
    background: BackgroundTasks,
    body: Annotated[ActivateRequest | None, Body()] = None,
) -> Activated | ActivatedWithExisting:
    """Publishes and runs the draft; ``include_existing`` lets in the contacts who match a
    list, segment or attribute trigger now too (at most ``ramp_per_hour`` each hour);
    ``migration`` moves the contacts already inside, or takes them out (see the publish
    plan). A migration that cannot be applied is 422, a plan made against another live
    version (``from_version``) 409, and then nothing is published."""
    asked = body or ActivateRequest()
    published, let_in = existing_contacts.publish(
        session,
        scenario_id,
        now=_now(request),
        include_existing=asked.include_existing,
        per_hour=asked.ramp_per_hour,
        migration=asked.asked_migration(),
        from_version=asked.from_version,
    )
    after_activation(request, background, published, let_in)
    migrated = published.migrated
    answer: dict[str, Any] = {
        "status": published.scenario.status,
        "version": published.version.number,
        "warnings": published.warnings,
        "migrated": MigratedOut.of(migrated) if migrated is not None else None,
    }
    if let_in is None:
        return Activated(**answer)
    return ActivatedWithExisting(**answer, existing=ExistingOut.of(let_in))


@router.post("/scenarios/{scenario_id}/pause", response_model=Paused)
def pause(scenario_id: Int32, session: SessionDep, request: Request) -> Paused:
    return Paused(status=service.pause(session, scenario_id, now=_now(request)).status)


@router.get("/scenarios/{scenario_id}/stats", response_model=ScenarioStats)
def stats(
    scenario_id: Int32,
    session: SessionDep,
    version: Annotated[
        Int32 | None, Query(description="A version's number; the live version when left out.")
    ] = None,
) -> ScenarioStats:
    """One version's block counters, never added across versions, and `versions`: how many
    contacts entered each version and how many are still on it. 404 for a version the
    scenario does not have."""
    scenario = service.get_scenario(session, scenario_id)
    return scenario_stats(session, scenario, version)


@router.get("/scenarios/{scenario_id}/export", response_model=ScenarioBundle)
def export_scenario(scenario_id: Int32, session: SessionDep) -> ScenarioBundle:
    return export_bundle(session, service.get_scenario(session, scenario_id))


@router.post("/scenarios/import", response_model=ScenarioOut, status_code=status.HTTP_201_CREATED)
def import_scenario(bundle: ScenarioBundle, session: SessionDep, request: Request) -> ScenarioOut:
    scenario, report = service.import_scenario(session, bundle, now=_now(request))
    return _out(session, scenario, report)


@router.post("/scenarios/{scenario_id}/enroll", response_model=Enrolled)
def enroll(
    scenario_id: Int32,
    body: EnrollRequest,
    session: SessionDep,
    request: Request,
    background: BackgroundTasks,
) -> Enrolled:
    """Enrolls contacts, a list or a segment; 409 when the scenario is not active or has no
    manual entry point, 404 for an unknown list or segment — and then nobody is enrolled."""
    now = _now(request)
    entry = manual.manual_entry(session, scenario_id)
    target = manual.resolve(session, body.target(), now)
    enrolled, refused = manual.enroll(session, entry, target, now)
    if enrolled:
        background.add_task(request.app.state.queue.kick, "advance")
    return Enrolled(enrolled=enrolled, refused=refused)


class BlockVisitor(BaseModel):
    contact_id: int
    email: str | None
    name: str
    entered_at: datetime
    outcome: str = Field(description="The latest step at the block: waiting, yes, no, completed…")
    state: str = Field(description="Where the journey stands: active, waiting, completed…")
    here_now: bool


class BlockVisitors(BaseModel):
    total: int
    contacts: list[BlockVisitor]
    next_cursor: int | None = Field(description="Pass as `after` for the next page.")


@router.get("/scenarios/{scenario_id}/nodes/{node_id}/contacts", response_model=BlockVisitors)
def block_contacts(
    scenario_id: Int32,
    node_id: str,
    session: SessionDep,
    show: str = "all",
    search: str = "",
    after: Int64 | None = None,
    limit: int = Query(default=50, ge=1, le=500),
    version: Annotated[
        Int32 | None, Query(description="Only the contacts of this version (its number).")
    ] = None,
) -> BlockVisitors:
    """Who is (or was) at a block, most recent first; ``show`` keeps one kind of outcome,
    ``version`` one version (every version when left out)."""
    scenario = service.get_scenario(session, scenario_id)
    if version is None:
        known = {node.get("id") for node in scenario.draft.get("nodes", [])}
        shown = service.live_version(session, scenario)
    else:
        known, shown = set(), find_version(session, scenario, version)
    if shown is not None:
        known |= set(shown.plan.get("blocks", {}))
    if node_id not in known:
        raise NotFound(f"The scenario has no block “{node_id}”.")
    page = block_visitors(
        session,
        scenario_id,
        node_id,
        show=show,
        search=search,
        after=after,
        limit=limit,
        version_id=shown.id if version is not None and shown is not None else None,
    )
    return BlockVisitors(
        total=page.total,
        next_cursor=page.next_cursor,
        contacts=[
            BlockVisitor(
                contact_id=v.contact_id,
                email=v.email,
                name=v.name,
                entered_at=v.entered_at,
                outcome=v.outcome,
                state=v.state,
                here_now=v.here_now,
            )
            for v in page.rows
        ],
    )
