"""Tidying scenarios from the screens: rename, duplicate, delete (or archive one that ran).

Plain forms that answer with a redirect, so they work without JavaScript; the editor's rename
form is sent by htmx and gets back only the title (block ``scenario_name`` of the editor).
A refusal re-renders the page it came from with the reason and writes nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from app.deps import SessionDep, get_current_user
from app.i18n import _
from app.inputs import Int32
from app.scenario_templates import scenario_templates
from app.services.errors import ServiceError
from app.services.scenarios import scenarios as service
from app.services.scenarios.scenarios import Removal
from app.templating import is_htmx, render

router = APIRouter(
    dependencies=[Depends(get_current_user)],
    include_in_schema=False,
    default_response_class=HTMLResponse,
)


def _now(request: Request) -> datetime:
    now: datetime = request.app.state.clock.now()
    return now


def _list_page(
    request: Request, session: Session, *, error: str = "", notice: str = "", status: int = 200
) -> HTMLResponse:
    return render(
        request,
        "scenarios.html",
        {
            "scenarios": service.list_scenarios(session),
            "templates": scenario_templates(),
            "error": error,
            "notice": notice,
        },
        status_code=status,
    )


@router.post("/scenarios/{scenario_id}/rename", response_model=None)
def rename(
    scenario_id: Int32,
    request: Request,
    session: SessionDep,
    name: Annotated[str, Form(max_length=1000)] = "",
    description: Annotated[str | None, Form(max_length=2000)] = None,
) -> Response:
    """From the list (a redirect back to it) or from the editor's title (htmx: the new title)."""
    try:
        scenario = service.rename(
            session, scenario_id, now=_now(request), name=name, description=description
        )
    except ServiceError as exc:
        if is_htmx(request):
            scenario = service.get_scenario(session, scenario_id)
            return render(
                request,
                "scenario_editor.html",
                {"scenario": scenario, "rename_error": exc.message, "rename_value": name},
                block="scenario_name",
                status_code=exc.status_code,
            )
        return _list_page(request, session, error=exc.message, status=exc.status_code)
    if is_htmx(request):
        return render(
            request, "scenario_editor.html", {"scenario": scenario}, block="scenario_name"
        )
    return RedirectResponse("/scenarios", status_code=303)


@router.post("/scenarios/{scenario_id}/duplicate", response_model=None)
def duplicate(
    scenario_id: Int32,
    request: Request,
    session: SessionDep,
    open_copy: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """The copy is a new draft; from the list it shows first, from an archived scenario's
    editor (``open_copy``) it opens on the canvas."""
    copy = service.duplicate(session, scenario_id, now=_now(request))
    if open_copy:
        return RedirectResponse(f"/scenarios/{copy.id}", status_code=303)
    return RedirectResponse("/scenarios", status_code=303)


@router.post("/scenarios/{scenario_id}/delete", response_model=None)
def delete(scenario_id: Int32, request: Request, session: SessionDep) -> Response:
    """Deletes a draft that never ran, archives one that did; an active one is refused."""
    name = service.get_scenario(session, scenario_id).name
    try:
        removal = service.remove(session, scenario_id, now=_now(request))
    except ServiceError as exc:
        return _list_page(request, session, error=exc.message, status=exc.status_code)
    if removal is Removal.deleted:
        notice = _("“%(name)s” was deleted.") % {"name": name}
    else:
        notice = _(
            "“%(name)s” was archived: its statistics and its contacts’ journeys stay available."
        ) % {"name": name}
    return _list_page(request, session, notice=notice)
