"""A scenario's History: the page listing its versions, one version open read-only on the
canvas, and "Restore as draft" (CONTRACTS-2 §B)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from app.deps import SessionDep, get_current_user
from app.inputs import Int32
from app.routes.scenario_pages import remember_restored, render_editor
from app.services.scenarios import scenarios as scenario_service
from app.services.scenarios import versions as service
from app.templating import render

router = APIRouter(
    dependencies=[Depends(get_current_user)],
    include_in_schema=False,
    default_response_class=HTMLResponse,
)


@router.get("/scenarios/{scenario_id}/versions")
def history_page(scenario_id: Int32, request: Request, session: SessionDep) -> HTMLResponse:
    scenario = scenario_service.get_scenario(session, scenario_id)
    return render(
        request,
        "scenario_versions.html",
        {
            "scenario": scenario,
            "versions": service.history(session, scenario),
            "draft": service.draft_entry(session, scenario),
        },
    )


@router.get("/scenarios/{scenario_id}/versions/{number}")
def version_canvas(
    scenario_id: Int32, number: Int32, request: Request, session: SessionDep
) -> HTMLResponse:
    """The canvas drawn from a published version, read only, with the way back to the draft."""
    scenario = scenario_service.get_scenario(session, scenario_id)
    entry = service.version_entry(session, scenario, number)
    return render_editor(request, session, scenario, entry.graph, version=entry)


@router.post("/scenarios/{scenario_id}/versions/{number}/restore")
def restore(
    scenario_id: Int32, number: Int32, request: Request, session: SessionDep
) -> RedirectResponse:
    """The draft becomes this version; the canvas it opens on says so (and how to go live)."""
    service.restore(session, scenario_id, number, now=request.app.state.clock.now())
    remember_restored(request, scenario_id, number)
    return RedirectResponse(f"/scenarios/{scenario_id}", status_code=303)
