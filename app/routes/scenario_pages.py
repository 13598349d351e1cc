"""Scenario pages: the list, a new blank scenario, the canvas editor and the calls it makes.

The canvas (``app/static/js/canvas/``) keeps the graph in the browser and talks to these
endpoints: it saves the draft with its revision (a stale one is refused and overwrites
nothing), activates or pauses; block cards and side panels come from
``canvas_block_pages``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Body, Depends, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel

from app.deps import SessionDep, get_current_user
from app.graph import check_draft
from app.graph.issues import block_label
from app.i18n import N_, _
from app.inputs import Int32
from app.models import Scenario
from app.routes.activation_body import (
    ActivateRequest,
    ExistingOut,
    MigratedOut,
    after_activation,
)
from app.routes.canvas_panels import (
    card_context,
    summaries_of,
)
from app.routes.canvas_settings import (
    REENTRY_CHOICES,
)
from app.scenario_templates import scenario_templates
from app.services.errors import Invalid, ServiceError
from app.services.scenarios import existing_contacts
from app.services.scenarios import publish_plan as plan_service
from app.services.scenarios import scenarios as service
from app.services.scenarios.block_catalog import families, palette_json
from app.services.scenarios.versions import VersionEntry
from app.templating import render

router = APIRouter(
    dependencies=[Depends(get_current_user)],
    include_in_schema=False,
    default_response_class=HTMLResponse,
)

CONFLICT_MESSAGE = N_("This scenario changed elsewhere — reload to see the latest version.")


class DraftSave(BaseModel):
    graph: dict[str, Any]
    revision: Int32


def _now(request: Request) -> datetime:
    now: datetime = request.app.state.clock.now()
    return now


def _json_error(exc: ServiceError) -> JSONResponse:
    return JSONResponse({"detail": exc.detail()}, status_code=exc.status_code)


@router.get("/scenarios")
def scenario_list(request: Request, session: SessionDep) -> HTMLResponse:
    return render(
        request,
        "scenarios.html",
        {"scenarios": service.list_scenarios(session), "templates": scenario_templates()},
    )


@router.post("/scenarios", response_model=None)
def create(
    request: Request,
    session: SessionDep,
    name: Annotated[str, Form()] = "",
    template: Annotated[str, Form()] = "",
    reentry: Annotated[str, Form()] = "once",
) -> Response:
    """A new blank scenario (or one from a ready-made template), opened on the canvas; a blank
    one starts with the answer to "how often may a contact go through?" (``reentry``)."""
    try:
        if reentry not in dict(REENTRY_CHOICES):
            raise Invalid(_("Choose how often a contact may go through the scenario."))
        if template:
            scenario, _report = service.create_from_template(
                session, template, now=_now(request), name=name.strip() or None
            )
        else:
            graph = {**service.EMPTY_GRAPH, "settings": {"reentry": reentry, "exit_when": None}}
            scenario = service.create_scenario(
                session, name=name or _("Untitled scenario"), graph=graph, now=_now(request)
            )
    except ServiceError as exc:
        return render(
            request,
            "scenarios.html",
            {
                "scenarios": service.list_scenarios(session),
                "templates": scenario_templates(),
                "error": exc.message,
            },
            status_code=exc.status_code,
        )
    return RedirectResponse(f"/scenarios/{scenario.id}", status_code=303)


@router.get("/scenarios/{scenario_id}")
def editor(scenario_id: Int32, request: Request, session: SessionDep) -> HTMLResponse:
    scenario = service.get_scenario(session, scenario_id)
    graph = scenario.draft if isinstance(scenario.draft, dict) else {}
    return render_editor(
        request, session, scenario, graph, notice=restored_notice(request, scenario_id)
    )


RESTORED = "restored"  # session key: the version just restored, said once on the canvas


def remember_restored(request: Request, scenario_id: int, number: int) -> None:
    request.session[RESTORED] = {"scenario": scenario_id, "version": number}


def restored_notice(request: Request, scenario_id: int) -> str | None:
    """Says "Version N is now your draft" once, on the canvas the restore led to."""
    restored = request.session.get(RESTORED)
    if not isinstance(restored, dict) or restored.get("scenario") != scenario_id:
        return None
    del request.session[RESTORED]
    return _("Version %(number)s is now your draft. Publish it to make it live.") % {
        "number": restored.get("version")
    }


def render_editor(
    request: Request,
    session: SessionDep,
    scenario: Scenario,
    graph: dict[str, Any],
    *,
    version: VersionEntry | None = None,
    notice: str | None = None,
) -> HTMLResponse:
    """The canvas on ``graph``: the draft, or with ``version`` that published version, read
    only (app/static/js/canvas/readonly.js)."""
    known = service.known_refs(session)
    document, issues = check_draft(graph, known)
    summaries = summaries_of(document, known.names)
    nodes = [node for node in graph.get("nodes") or [] if isinstance(node, dict)]
    boot = {
        "scenario": {
            "id": scenario.id,
            "name": scenario.name,
            "status": scenario.status,
            # A read-only view holds no revision: whatever it sent as a save would be refused.
            "revision": scenario.draft_revision if version is None else None,
            "liveVersion": scenario.live_version,
        },
        "graph": graph,
        "issues": [] if version else [issue.model_dump(mode="json") for issue in issues],
        "summaries": summaries,
        "palette": palette_json(),
        # Contacts already there waiting to enter, by trigger block (an activation "at most
        # N per hour"): the canvas shows the queue on the block.
        "queue": {} if version else _queue_json(session, scenario.id or 0),
        # How the graph's messages name what they are about, so the list of things to fix
        # can show the name in bold instead ("\u0000" stands for the block's title, or its id).
        "labels": {
            "block": block_label("\u0000"),
            "settings": _("Scenario settings"),
            "titles": {f"{t}.{k}": title for (t, k), title in known.block_titles.items()},
        },
        "readonly": {"version": version.number} if version else None,
        "notice": notice,
    }
    return render(
        request,
        "scenario_editor.html",
        {
            "scenario": scenario,
            "families": families(),
            "cards": [card_context(node, summaries.get(str(node.get("id")))) for node in nodes],
            "boot": boot,
            "version": version,
        },
    )


@router.put("/scenarios/{scenario_id}/draft", response_model=None)
def save_draft(
    scenario_id: Int32, body: DraftSave, request: Request, session: SessionDep
) -> JSONResponse:
    """Autosave: the graph as drawn, if ``revision`` is still the latest; 409 otherwise."""
    try:
        scenario = service.save_draft(
            session, scenario_id, body.graph, revision=body.revision, now=_now(request)
        )
    except ServiceError as exc:
        if exc.status_code == 409 and not isinstance(exc, service.ScenarioArchived):
            return JSONResponse({"detail": _(CONFLICT_MESSAGE)}, status_code=409)
        return _json_error(exc)
    known = service.known_refs(session)
    document, issues = check_draft(scenario.draft, known)
    return JSONResponse(
        {
            "revision": scenario.draft_revision,
            "issues": [issue.model_dump(mode="json") for issue in issues],
            "summaries": summaries_of(document, known.names),
        }
    )


@router.post("/scenarios/{scenario_id}/activate", response_model=None)
def activate(
    scenario_id: Int32,
    request: Request,
    session: SessionDep,
    background: BackgroundTasks,
    body: Annotated[ActivateRequest | None, Body()] = None,
) -> JSONResponse:
    """Publishes the saved draft; refused with the issues (422) while errors remain. With
    ``include_existing``, the contacts already there enter too (all at once or a ramp); with
    ``migration``, the contacts inside move or leave as the publish plan was answered."""
    user = getattr(request.state, "user", None)
    asked = body or ActivateRequest()
    try:
        published, let_in = existing_contacts.publish(
            session,
            scenario_id,
            now=_now(request),
            include_existing=asked.include_existing,
            per_hour=asked.ramp_per_hour,
            user_id=user.id if user else None,
            migration=asked.asked_migration(),
            from_version=asked.from_version,
        )
    except ServiceError as exc:
        return _json_error(exc)
    after_activation(request, background, published, let_in)
    answer: dict[str, Any] = {
        "status": published.scenario.status,
        "version": published.version.number,
        "warnings": [issue.model_dump(mode="json") for issue in published.warnings],
    }
    if published.migrated is not None:
        answer["migrated"] = MigratedOut.of(published.migrated).model_dump()
    if let_in is not None:  # asked with the contacts already there: what became of them
        answer["existing"] = ExistingOut.of(let_in).model_dump()
        answer["queue"] = _queue_json(session, scenario_id)
    return JSONResponse(answer)


@router.get("/scenarios/{scenario_id}/publish-plan", response_model=None)
def publish_plan(scenario_id: Int32, session: SessionDep) -> JSONResponse:
    """The API's publish plan for the canvas's publish dialog, the blocks named in the
    user's language."""
    try:
        plan = plan_service.publish_plan(session, scenario_id)
    except ServiceError as exc:
        return _json_error(exc)
    return JSONResponse(plan.model_dump(mode="json"))


@router.get("/scenarios/{scenario_id}/existing", response_model=None)
def existing(scenario_id: Int32, request: Request, session: SessionDep) -> JSONResponse:
    """Before activating: how many contacts already there match the draft's list, segment or
    attribute triggers and would enter (the canvas asks whether to let them in)."""
    try:
        scenario = service.get_scenario(session, scenario_id)
        plan = existing_contacts.draft_plan(session, scenario)
        found = existing_contacts.existing(session, scenario, plan, _now(request)) if plan else None
    except ServiceError as exc:
        return _json_error(exc)
    if found is None:
        return JSONResponse({"count": 0, "sources": []})
    sources = [{"node": s.node_id, "kind": s.kind, "name": s.name} for s in found.sources]
    return JSONResponse({"count": found.count, "sources": sources})


@router.get("/scenarios/{scenario_id}/queue", response_model=None)
def queue(scenario_id: Int32, session: SessionDep) -> JSONResponse:
    """The contacts already there still waiting to enter, by trigger block: the canvas reads
    it again as the live counters move (a batch let in starts journeys)."""
    service.get_scenario(session, scenario_id)
    return JSONResponse(_queue_json(session, scenario_id))


def _queue_json(session: SessionDep, scenario_id: int) -> dict[str, dict[str, int | None]]:
    waiting = existing_contacts.waiting_by_block(session, scenario_id)
    return {node: {"waiting": w.waiting, "perHour": w.per_hour} for node, w in waiting.items()}


@router.post("/scenarios/{scenario_id}/pause", response_model=None)
def pause(scenario_id: Int32, request: Request, session: SessionDep) -> JSONResponse:
    try:
        scenario = service.pause(session, scenario_id, now=_now(request))
    except ServiceError as exc:
        return _json_error(exc)
    return JSONResponse({"status": scenario.status})
