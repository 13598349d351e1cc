"""Lists and segments pages; the segment editor with its visual builder and live count.

Segment pages live under /segments but belong to the "Lists" section of the navigation.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response

from app.deps import SessionDep, get_current_user
from app.i18n import _
from app.models import Segment
from app.routes.condition_builder import builder_context, builder_tree
from app.services.contacts import lists as list_service
from app.services.contacts import segments
from app.services.errors import Invalid, ServiceError
from app.templating import render

router = APIRouter(
    dependencies=[Depends(get_current_user)],
    include_in_schema=False,
    default_response_class=HTMLResponse,
)
NAV = {"nav": "lists"}


@router.get("/lists")
def list_list(request: Request, session: SessionDep) -> HTMLResponse:
    return render(request, "lists.html", {"lists": list_service.lists_with_counts(session)})


@router.post("/lists")
def create_list(
    request: Request,
    session: SessionDep,
    key: Annotated[str, Form()] = "",
    name: Annotated[str, Form()] = "",
    description: Annotated[str, Form()] = "",
) -> HTMLResponse:
    context: dict[str, Any] = {"form": {"key": key, "name": name, "description": description}}
    status = 200
    try:
        created = list_service.create_list(
            session,
            key=key,
            name=name,
            description=description,
            now=request.app.state.clock.now(),
        )
        context = {"created": created.name}
    except ServiceError as error:
        context["list_error"], status = error.message, error.status_code
    context["lists"] = list_service.lists_with_counts(session)
    return render(request, "lists.html", context, block="lists_card", status_code=status)


@router.post("/lists/{key}/rename")
def rename_list(
    request: Request, session: SessionDep, key: str, name: Annotated[str, Form()] = ""
) -> HTMLResponse:
    def rename() -> dict[str, Any]:
        renamed = list_service.rename_list(session, list_service.get_list(session, key), name=name)
        return {"renamed": renamed.name}

    return _lists_card_after(request, session, rename)


@router.post("/lists/{key}/delete")
def delete_list(request: Request, session: SessionDep, key: str) -> HTMLResponse:
    """Deleted, or refused (409) with the live scenarios that use it; nothing written then."""

    def delete() -> dict[str, Any]:
        found = list_service.get_list(session, key)
        warning = list_service.delete_list(session, found)
        return {"deleted": found.name, "drafts_warning": warning}

    return _lists_card_after(request, session, delete)


def _lists_card_after(
    request: Request, session: SessionDep, change: Callable[[], dict[str, Any]]
) -> HTMLResponse:
    """The lists card once ``change`` ran: with what it did, or why it was refused."""
    status = 200
    try:
        context = change()
    except ServiceError as error:
        context, status = {"list_error": error.message}, error.status_code
    context["lists"] = list_service.lists_with_counts(session)
    return render(request, "lists.html", context, block="lists_card", status_code=status)


@router.get("/segments")
def segment_list(request: Request, session: SessionDep) -> HTMLResponse:
    return _segment_list(request, session, {})


def _segment_list(
    request: Request, session: SessionDep, context: dict[str, Any], status: int = 200
) -> HTMLResponse:
    names = list_service.list_names(session)
    rows = [(s, segments.describe(s, names)) for s in segments.all_segments(session)]
    context = {"segments": rows, **NAV, **context}
    return render(request, "segments.html", context, status_code=status)


@router.get("/segments/new")
def new_segment(request: Request, session: SessionDep) -> HTMLResponse:
    return _editor(request, session, None, {"all": []})


@router.get("/segments/{key}/count")
def segment_count(request: Request, session: SessionDep, key: str) -> HTMLResponse:
    segment = segments.get_segment(session, key)
    context: dict[str, Any] = {}
    try:
        context["members"] = segments.count_segment(session, segment, request.app.state.clock.now())
    except Invalid as error:
        context["problem"] = error.message
    return render(request, "_segment_count.html", context)


@router.post("/segments/preview")
def preview(
    request: Request, session: SessionDep, condition: Annotated[str, Form()] = "{}"
) -> HTMLResponse:
    """The live count under the builder; an incomplete condition says what is missing."""
    context: dict[str, Any] = {}
    try:
        parsed = segments.read_condition(_json(condition))
        context["members"] = segments.count_condition(
            session, parsed, request.app.state.clock.now()
        )
        context["summary"] = segments.describe_condition(parsed, list_service.list_names(session))
    except ServiceError as error:
        context["problem"] = error.message
    return render(request, "segment_form.html", context, block="live_count")


@router.post("/segments")
def create_segment(
    request: Request,
    session: SessionDep,
    key: Annotated[str, Form()] = "",
    name: Annotated[str, Form()] = "",
    description: Annotated[str, Form()] = "",
    condition: Annotated[str, Form()] = "{}",
) -> Response:
    return _save(request, session, None, key, name, description, condition)


@router.get("/segments/{key}")
def edit_segment(request: Request, session: SessionDep, key: str) -> HTMLResponse:
    segment = segments.get_segment(session, key)
    return _editor(request, session, segment, segment.condition)


@router.post("/segments/{key}")
def update_segment(
    request: Request,
    session: SessionDep,
    key: str,
    name: Annotated[str, Form()] = "",
    description: Annotated[str, Form()] = "",
    condition: Annotated[str, Form()] = "{}",
) -> Response:
    existing = segments.get_segment(session, key)
    return _save(request, session, existing, key, name, description, condition)


@router.post("/segments/{key}/delete")
def delete_segment(request: Request, session: SessionDep, key: str) -> HTMLResponse:
    """The segments, with what became of this one: deleted, or refused (409) with the live
    scenarios that enter on it, and nothing written."""
    segment = segments.get_segment(session, key)
    try:
        warning = segments.delete_segment(session, key)
    except ServiceError as error:
        return _segment_list(request, session, {"error": error.message}, error.status_code)
    return _segment_list(request, session, {"deleted": segment.name, "drafts_warning": warning})


def _json(text: str) -> object:
    if not text.strip():
        return {"all": []}  # the builder sends nothing while it has no test: everyone matches
    try:
        return json.loads(text)
    except ValueError:
        raise Invalid(_("The condition could not be read; reload the page.")) from None


def _save(
    request: Request,
    session: SessionDep,
    existing: Segment | None,
    key: str,
    name: str,
    description: str,
    condition: str,
) -> Response:
    try:
        saved = segments.save_segment(
            session,
            key=key,
            name=name,
            description=description,
            condition=_json(condition),
            now=request.app.state.clock.now(),
            existing=existing,
        )
    except ServiceError as error:
        raw = json.loads(condition) if condition.strip().startswith("{") else {"all": []}
        form = {"key": key, "name": name, "description": description}
        return _editor(
            request,
            session,
            existing,
            raw,
            form=form,
            error=error.message,
            status=error.status_code,
        )
    return Response(status_code=303, headers={"Location": f"/segments/{saved.key}?saved=1"})


def _editor(
    request: Request,
    session: SessionDep,
    segment: Segment | None,
    condition: object,
    *,
    form: dict[str, str] | None = None,
    error: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    context = {
        "segment": segment,
        "condition": condition,
        "tree": builder_tree(condition),
        **builder_context(session),
        "form": form
        or {
            "key": segment.key if segment else "",
            "name": segment.name if segment else "",
            "description": segment.description if segment else "",
        },
        "error": error,
        **NAV,
    }
    return render(request, "segment_form.html", context, status_code=status)
