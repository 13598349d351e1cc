"""Contacts by hand: the add and edit forms, and joining or leaving a list from a contact's page.

Registered before the contact pages so /contacts/new is not read as a contact id.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session
from starlette.datastructures import FormData

from app.deps import CurrentUser, SessionDep, get_current_user
from app.inputs import Int32
from app.models import Contact, User
from app.routes.api.intake import wake_engine
from app.services.contacts import by_hand
from app.services.contacts import contacts as contact_service
from app.services.contacts import lists as list_service
from app.services.errors import ServiceError
from app.templating import render

router = APIRouter(
    dependencies=[Depends(get_current_user)],
    include_in_schema=False,
    default_response_class=HTMLResponse,
)
NAV = {"nav": "contacts"}
BLANK_ROWS = 3  # empty attribute rows offered under the ones the contact has
# Rows read from a form: every row the edit form showed, however many attributes the contact
# has (the API adds up to 200 at a time, so more than any small bound; reading only the first
# 100 deleted the rest on save). The body limit bounds it too; new names are capped by the
# service (by_hand.MAX_NEW_ATTRIBUTES).
MAX_ROWS = 10_000


def who(user: User) -> str:
    return user.name or user.email


def _form(data: FormData) -> by_hand.ContactForm:
    def text(name: str) -> str:
        value = data.get(name)
        return value if isinstance(value, str) else ""

    rows = []
    for index in range(MAX_ROWS):
        if f"attr_name_{index}" not in data:
            break
        rows.append(
            by_hand.AttributeRow(
                text(f"attr_name_{index}"), text(f"attr_value_{index}"), text(f"attr_kind_{index}")
            )
        )
    return by_hand.ContactForm(
        email=text("email"),
        first_name=text("first_name"),
        last_name=text("last_name"),
        phone=text("phone"),
        lists=[v for v in data.getlist("lists") if isinstance(v, str)],
        attributes=rows,
        consent_email=bool(text("consent_email")),
        consent_sms=bool(text("consent_sms")),
    )


def _page(
    request: Request,
    session: SessionDep,
    form: by_hand.ContactForm,
    *,
    contact: Contact | None = None,
    problems: dict[str, str] | None = None,
    duplicate: by_hand.DuplicateEmail | None = None,
    error: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    rows = list(form.attributes)
    blanks = sum(1 for row in rows if not row.name and not row.value)
    rows += [by_hand.AttributeRow() for _ in range(max(0, BLANK_ROWS - blanks))]
    context: dict[str, Any] = {
        "form": form,
        "rows": rows,
        "contact": contact,
        "all_lists": list_service.all_lists(session),
        "kinds": by_hand.KINDS,
        "problems": problems or {},
        "duplicate": duplicate,
        "error": error,
        **NAV,
    }
    return render(request, "contact_form.html", context, status_code=status)


@router.get("/contacts/new")
def new_contact(request: Request, session: SessionDep) -> HTMLResponse:
    return _page(request, session, by_hand.ContactForm())


@router.post("/contacts/new")
async def create_contact(
    request: Request, session: SessionDep, user: CurrentUser, background: BackgroundTasks
) -> Response:
    form = _form(await request.form())
    try:
        result = by_hand.create_contact(
            session, form, now=request.app.state.clock.now(), who=who(user)
        )
    except by_hand.FormProblems as refused:
        return _page(request, session, form, problems=refused.problems, status=422)
    except by_hand.DuplicateEmail as duplicate:
        return _page(request, session, form, duplicate=duplicate, status=409)
    except ServiceError as error:
        return _page(request, session, form, error=error.message, status=error.status_code)
    background.add_task(wake_engine, request.app)  # a "new contact" scenario may welcome them
    flag = "suppressed" if result.suppressed else "added"
    return Response(
        status_code=303, headers={"Location": f"/contacts/{result.contact.id}?{flag}=1"}
    )


@router.get("/contacts/{contact_id}/edit")
def edit_contact(request: Request, session: SessionDep, contact_id: Int32) -> HTMLResponse:
    contact = contact_service.get_contact(session, contact_id)
    keys = list_service.contact_list_keys(session, [contact_id])[contact_id]
    return _page(request, session, by_hand.ContactForm.of(contact, keys), contact=contact)


@router.post("/contacts/{contact_id}/edit")
async def update_contact(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    background: BackgroundTasks,
    contact_id: Int32,
) -> Response:
    contact = contact_service.get_contact(session, contact_id)
    form = _form(await request.form())
    try:
        by_hand.update_contact(
            session, contact, form, now=request.app.state.clock.now(), who=who(user)
        )
    except by_hand.FormProblems as refused:  # refused before anything was written
        return _page(request, session, form, contact=contact, problems=refused.problems, status=422)
    except by_hand.DuplicateEmail as duplicate:
        return _page(request, session, form, contact=contact, duplicate=duplicate, status=409)
    background.add_task(wake_engine, request.app)  # scenarios may listen to the changes
    return Response(status_code=303, headers={"Location": f"/contacts/{contact_id}?saved=1"})


@router.post("/contacts/{contact_id}/lists")
def join_list(
    request: Request,
    session: SessionDep,
    background: BackgroundTasks,
    contact_id: Int32,
    list_key: Annotated[str, Form()] = "",
) -> Response:
    contact = contact_service.get_contact(session, contact_id)
    contact_list = list_service.get_list(session, list_key)
    list_service.add_members(
        session,
        [contact_list],
        [contact_id],
        now=request.app.state.clock.now(),
        source=by_hand.MEMBERSHIP_SOURCE,
    )
    background.add_task(wake_engine, request.app)
    return Response(status_code=303, headers={"Location": f"/contacts/{contact.id}#lists"})


@router.post("/contacts/{contact_id}/lists/{key}/leave")
def leave_list(
    request: Request, session: SessionDep, background: BackgroundTasks, contact_id: Int32, key: str
) -> Response:
    contact = contact_service.get_contact(session, contact_id)
    contact_list = list_service.get_list(session, key)
    list_service.remove_members(
        session, [contact_list], [contact_id], now=request.app.state.clock.now()
    )
    background.add_task(wake_engine, request.app)
    return Response(status_code=303, headers={"Location": f"/contacts/{contact.id}#lists"})


def by_hand_context(session: Session, contact: Contact) -> dict[str, Any]:
    """What the contact's page needs for its lists card, consent sources and enroll box."""
    assert contact.id is not None
    contact_id = contact.id
    member_of = by_hand.contact_lists(session, contact_id)
    keys = {lst.key for lst in member_of}
    every_list = list_service.all_lists(session)
    return {
        "member_of": member_of,
        "other_lists": [lst for lst in every_list if lst.key not in keys],
        "list_names": {lst.key: lst.name for lst in every_list},  # the timeline shows names
        "consent_sources": {
            "email": by_hand.readable_source(contact.email_consent_source),
            "sms": by_hand.readable_source(contact.sms_consent_source),
        },
        "enroll_target": {"contact": contact_id},
    }
