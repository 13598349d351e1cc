"""The product's pages. Each needs a logged-in user."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from app.deps import SessionDep, SettingsDep, get_current_user
from app.services import contacts, lists, mailbox, messages, scenarios
from app.services.overview import overview
from app.templating import render

router = APIRouter(
    dependencies=[Depends(get_current_user)],
    include_in_schema=False,
    default_response_class=HTMLResponse,
)


@router.get("/")
def home(request: Request, session: SessionDep, settings: SettingsDep) -> HTMLResponse:
    figures = overview(session, request.app.state.clock.now())
    return render(request, "home.html", {"figures": figures, "base_url": settings.base_url})


@router.get("/scenarios")
def scenario_list(request: Request, session: SessionDep) -> HTMLResponse:
    return render(request, "scenarios.html", {"scenarios": scenarios.list_scenarios(session)})


@router.get("/contacts")
def contact_list(request: Request, session: SessionDep) -> HTMLResponse:
    return render(request, "contacts.html", {"contacts": contacts.newest_contacts(session)})


@router.get("/lists")
def list_list(request: Request, session: SessionDep) -> HTMLResponse:
    return render(request, "lists.html", {"lists": lists.lists_with_counts(session)})


@router.get("/messages")
def message_list(request: Request, session: SessionDep) -> HTMLResponse:
    return render(request, "messages.html", {"templates": messages.list_templates(session)})


@router.get("/mailbox")
def mailbox_page(request: Request, session: SessionDep, settings: SettingsDep) -> HTMLResponse:
    return render(
        request,
        "mailbox.html",
        {"sends": mailbox.recent_sends(session), "smtp_configured": bool(settings.smtp_url)},
    )
