"""A list's own page: who is in it, adding and removing members by email (several at once)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, BackgroundTasks, Depends, Form, Request
from fastapi.responses import HTMLResponse

from app.deps import SessionDep, get_current_user
from app.models import ContactList
from app.routes.api.intake import wake_engine
from app.services.contacts import by_hand
from app.services.contacts import lists as list_service
from app.services.errors import ServiceError
from app.templating import render

router = APIRouter(
    dependencies=[Depends(get_current_user)],
    include_in_schema=False,
    default_response_class=HTMLResponse,
)
NAV = {"nav": "lists"}


def _context(session: SessionDep, contact_list: ContactList) -> dict[str, Any]:
    assert contact_list.id is not None
    return {
        "list": contact_list,
        "members": list_service.member_count(session, contact_list.id),
        "enroll_target": {"list": contact_list.key},
        **NAV,
    }


@router.get("/lists/{key}")
def list_page(request: Request, session: SessionDep, key: str) -> HTMLResponse:
    contact_list = list_service.get_list(session, key)
    return render(request, "list_detail.html", _context(session, contact_list))


@router.post("/lists/{key}/members/{action}")
def change_members(
    request: Request,
    session: SessionDep,
    background: BackgroundTasks,
    key: str,
    action: Literal["add", "remove"],
    emails: Annotated[str, Form()] = "",
) -> HTMLResponse:
    contact_list = list_service.get_list(session, key)
    adding = action == "add"
    context: dict[str, Any] = {"emails": emails, "adding": adding}
    status = 200
    try:
        context["report"] = by_hand.change_members_by_email(
            session, contact_list, emails, adding=adding, now=request.app.state.clock.now()
        )
        context["emails"] = ""  # done: the box is ready for the next ones
        background.add_task(wake_engine, request.app)  # scenarios may listen to the list
    except ServiceError as error:
        context["members_error"], status = error.message, error.status_code
    context.update(_context(session, contact_list))
    return render(request, "list_detail.html", context, block="members_card", status_code=status)
