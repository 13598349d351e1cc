"""The canvas's block cards and side panels, and the scenario settings panel: the browser
sends a block as it holds it and gets back the card or panel to show, with every word from one
place (``app.graph`` summaries and issues); applying a panel answers the block's settings read
from the form, or the form again with its problems in words.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from app.deps import SessionDep, get_current_user
from app.graph import check_draft
from app.i18n import _
from app.inputs import Int32
from app.routes.canvas_forms import PanelErrors, config_from_form
from app.routes.canvas_panels import (
    block_problems,
    card_context,
    panel_context,
    summaries_of,
)
from app.routes.canvas_settings import (
    settings_context,
    settings_from_form,
    settings_problems,
)
from app.services.scenarios.block_catalog import block_info
from app.services.scenarios.ref_names import ref_names
from app.templating import render

router = APIRouter(
    dependencies=[Depends(get_current_user)],
    include_in_schema=False,
    default_response_class=HTMLResponse,
)


class NodeIn(BaseModel):
    """A block as the canvas holds it; the settings may be half-filled."""

    id: str = Field(min_length=1, max_length=100)
    type: str
    kind: str
    config: dict[str, Any] = Field(default_factory=dict)
    x: float = 0
    y: float = 0


@router.post("/scenarios/blocks/card")
def card(request: Request, session: SessionDep, node: Annotated[NodeIn, Body()]) -> HTMLResponse:
    """One block card, as the canvas shows it, with its summary in plain words."""
    raw = node.model_dump()
    document, _issues = check_draft({"schema": 1, "nodes": [raw], "edges": []})
    names = ref_names(session)
    return render(
        request,
        "canvas/_card.html",
        {"card": card_context(raw, summaries_of(document, names).get(node.id))},
    )


@router.post("/scenarios/blocks/panel")
def panel(
    request: Request,
    session: SessionDep,
    node: Annotated[NodeIn, Body()],
    scenario: Int32 | None = None,
    readonly: bool = False,
) -> HTMLResponse:
    """The side panel of one block, filled with its current settings; ``scenario``, the one
    the canvas shows (the manual trigger's panel enrolls contacts into it); ``readonly``, a
    published version's block: shown, never applied."""
    if block_info(node.type, node.kind) is None:
        return render(
            request, "_error_alert.html", {"detail": _("This block is not known.")}, status_code=422
        )
    raw = node.model_dump()
    return render(
        request,
        "canvas/panel.html",
        {
            **panel_context(session, raw, block_problems(session, raw)),
            "scenario_id": scenario,
            "readonly": readonly,
        },
    )


@router.post("/scenarios/blocks/apply/{block_type}/{kind}")
async def apply_panel(
    block_type: str, kind: str, request: Request, session: SessionDep
) -> HTMLResponse:
    """A submitted panel becomes the block's settings, announced to the canvas.

    The settings travel in the ``HX-Trigger`` header (event ``parcours:config``) so the canvas
    can record them (undo, autosave); the body is the panel's feedback. Values that cannot be
    read at all are explained and change nothing.
    """
    form = await request.form()
    node_id = str(form.get("node_id") or "")
    if block_info(block_type, kind) is None or not node_id:
        return render(
            request, "_error_alert.html", {"detail": _("This block is not known.")}, status_code=422
        )
    # Unreadable values are answered 200 with the reasons and no event: half-typed input is
    # a normal moment in a form, not a failed request (browsers log 4xx as console errors).
    try:
        config = config_from_form(block_type, kind, form)
    except PanelErrors as exc:
        return render(request, "canvas/_feedback.html", {"errors": exc.errors})
    raw = {"id": node_id, "type": block_type, "kind": kind, "config": config}
    problems = block_problems(session, raw)
    unreadable = {p.field: p.message for p in problems if p.unreadable}
    if unreadable:
        return render(request, "canvas/_feedback.html", {"errors": unreadable})
    document, _issues = check_draft({"schema": 1, "nodes": [raw], "edges": []})
    try:
        base = json.loads(str(form.get("base") or "null"))
    except ValueError:
        base = None
    event = {
        "node": node_id,
        "base": base,
        "config": config,
        "summary": summaries_of(document, ref_names(session)).get(node_id, ""),
        "problems": [{"field": p.field, "message": p.message} for p in problems],
    }
    return render(
        request,
        "canvas/_feedback.html",
        {"problems": problems, "applied": True},
        headers={"HX-Trigger": json.dumps({"parcours:config": event}, ensure_ascii=True)},
    )


@router.post("/scenarios/settings/panel")
def settings_panel(
    request: Request,
    session: SessionDep,
    settings: Annotated[dict[str, Any], Body()],
    readonly: bool = False,
) -> HTMLResponse:
    """The scenario settings panel (re-entry and goal), filled with the draft's settings (or
    a published version's, ``readonly``)."""
    return render(
        request,
        "canvas/settings_panel.html",
        {**settings_context(session, settings), "readonly": readonly},
    )


@router.post("/scenarios/settings/apply")
async def apply_settings(request: Request, session: SessionDep) -> HTMLResponse:
    """A submitted settings panel becomes the draft's ``settings``, announced to the canvas.

    Like a block panel: the settings travel in ``HX-Trigger`` (event ``parcours:settings``) so
    the canvas records them (undo, autosave); values that cannot be kept are explained and
    change nothing.
    """
    form = await request.form()
    try:
        settings = settings_from_form(form)
    except PanelErrors as exc:
        return render(request, "canvas/_feedback.html", {"errors": exc.errors})
    problems = settings_problems(session, settings)
    unreadable = {p.field: p.message for p in problems if p.unreadable}
    if unreadable:
        return render(request, "canvas/_feedback.html", {"errors": unreadable})
    try:
        base = json.loads(str(form.get("base") or "null"))
    except ValueError:
        base = None
    event = {
        "base": base,
        "settings": settings,
        "problems": [{"field": p.field, "message": p.message} for p in problems],
    }
    return render(
        request,
        "canvas/_feedback.html",
        {"problems": problems, "applied": True, "ready_text": _("these settings are ready.")},
        headers={"HX-Trigger": json.dumps({"parcours:settings": event}, ensure_ascii=True)},
    )
