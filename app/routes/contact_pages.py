"""Contact pages: the searchable base, one contact's page, GDPR actions and CSV export."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from typing import IO

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse

from app.deps import SessionDep, get_current_user
from app.graph import Condition
from app.i18n import _
from app.inputs import Int32, Int64
from app.routes.contact_forms import by_hand_context
from app.routes.topic_pages import contact_topics
from app.services.contacts import contacts, gdpr, segments
from app.services.contacts import lists as list_service
from app.services.contacts import views as contact_views
from app.services.contacts.export import write_csv
from app.services.contacts.search import FILTER_OPS, ContactFilter, search_contacts
from app.services.errors import ServiceError
from app.templating import render

router = APIRouter(
    dependencies=[Depends(get_current_user)],
    include_in_schema=False,
    default_response_class=HTMLResponse,
)


def _scopes(session: SessionDep) -> dict[str, object]:
    return {
        "all_lists": list_service.all_lists(session),
        "all_segments": segments.all_segments(session),
        "filter_ops": {op: _(words) for op, words in FILTER_OPS.items()},
    }


@router.get("/contacts")
def contact_list(
    request: Request,
    session: SessionDep,
    q: str = "",
    scope: str = Query(default="", alias="in"),
    attribute: str = "",
    op: str = "eq",
    value: str = "",
    before: Int32 | None = None,
) -> HTMLResponse:
    wanted = ContactFilter(q=q, scope=scope, attribute=attribute, op=op, value=value)
    context: dict[str, object] = {"filter": wanted, **_scopes(session)}
    status = 200
    try:
        context["page"] = search_contacts(
            session, wanted, request.app.state.clock.now(), before=before
        )
    except ServiceError as error:
        context["filter_error"], status = error.message, 422
    context["first_page"] = before is None
    return render(request, "contacts.html", context, block="results", status_code=status)


@router.get("/contacts/export.csv")
def export_scope(request: Request, session: SessionDep, scope: str = Query(alias="in")) -> Response:
    kind, _colon, key = scope.partition(":")
    list_id: int | None = None
    condition: Condition | None = None
    if kind == "list":
        list_id = list_service.get_list(session, key).id
    elif kind == "segment":
        condition = segments.segment_condition(segments.get_segment(session, key))
    else:
        detail = _("Choose a list or a segment to export.")
        return render(request, "error.html", {"status": 422, "detail": detail}, status_code=422)
    # Closed by _read_and_close once sent: it outlives this function.
    out = tempfile.SpooledTemporaryFile(max_size=8_000_000, mode="w+", encoding="utf-8")  # noqa: SIM115
    write_csv(session, out, list_id=list_id, condition=condition, now=request.app.state.clock.now())
    out.seek(0)
    filename = f"{kind}-{key}.csv"
    return StreamingResponse(
        _read_and_close(out),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get("/contacts/{contact_id}")
def contact_page(request: Request, session: SessionDep, contact_id: Int32) -> HTMLResponse:
    contact = contacts.get_contact(session, contact_id)
    assert contact.id is not None
    events = contact_views.timeline(session, contact.id)
    enrollments = contact_views.enrollments_of(session, contact.id)
    context = {
        "contact": contact,
        "enrollments": enrollments,
        "places": contact_views.block_places(session, enrollments),
        "events": events,
        "older": events[-1].id if len(events) == 50 else None,
        "suppressed": contacts.is_suppressed(session, contact.email),
        "topic_choices": contact_topics(session, contact.id),
        **by_hand_context(session, contact),
    }
    return render(request, "contact_detail.html", context)


@router.get("/contacts/{contact_id}/timeline")
def contact_timeline(
    request: Request, session: SessionDep, contact_id: Int32, before: Int64
) -> HTMLResponse:
    events = contact_views.timeline(session, contact_id, before=before)
    context = {
        "contact": contacts.get_contact(session, contact_id),
        "events": events,
        "older": events[-1].id if len(events) == 50 else None,
        "list_names": list_service.list_names(session),
    }
    return render(request, "contact_detail.html", context, block="timeline_rows")


@router.get("/contacts/{contact_id}/export")
def export_contact(request: Request, session: SessionDep, contact_id: Int32) -> Response:
    data = gdpr.export_contact(session, contact_id, request.app.state.clock.now())
    return Response(
        json.dumps(data, indent=2, ensure_ascii=False),
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="contact-{contact_id}.json"'},
    )


@router.post("/contacts/{contact_id}/erase")
def erase_contact(request: Request, session: SessionDep, contact_id: Int32) -> Response:
    gdpr.erase_contact(session, contact_id, request.app.state.clock.now())
    target = "/contacts?erased=1"
    if request.headers.get("HX-Request") == "true":
        return Response(status_code=204, headers={"HX-Redirect": target})
    return Response(status_code=303, headers={"Location": target})


@router.post("/contacts/{contact_id}/lift-suppression")
def lift_suppression(request: Request, session: SessionDep, contact_id: Int32) -> Response:
    contact = contacts.get_contact(session, contact_id)
    if contact.email:
        gdpr.lift_suppression(session, contact.email)
    return Response(status_code=303, headers={"Location": f"/contacts/{contact_id}"})


def _read_and_close(out: IO[str]) -> Iterator[str]:
    try:
        while chunk := out.read(64_000):
            yield chunk
    finally:
        out.close()
