"""Public links inside emails: the open pixel, click redirects and the unsubscribe page.

No login (the people who follow them are contacts), no CSRF (``/t/`` and ``/u/`` are exempt:
the signed token is what proves the link came from Parcours). A link that was tampered with
is refused with 404, and nothing is recorded.
"""

from __future__ import annotations

import base64
import logging
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from sqlmodel import Session
from starlette.background import BackgroundTask

from app.deps import SessionDep
from app.i18n import N_, _, speaking
from app.services.account.preferences import workspace_language
from app.services.messaging.tracking import SendRef, Tracker, record_tracking_event
from app.services.messaging.unsubscribe import (
    UnsubscribeLink,
    UnsubscribeLinks,
    choose_topics,
    leave_topic,
    reader_language,
    unsubscribe,
)
from app.services.messaging.unsubscribe_page import page_context
from app.templating import render

log = logging.getLogger("parcours.public")
router = APIRouter(include_in_schema=False)
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
NO_STORE = {"Cache-Control": "no-store, private"}
BROKEN_LINK = N_("This link is not valid. It may have been copied incompletely.")


def _tracker(request: Request) -> Tracker:
    settings = request.app.state.settings
    return Tracker(settings.base_url, settings.resolved_secret_key())


def _links(request: Request) -> UnsubscribeLinks:
    settings = request.app.state.settings
    return UnsubscribeLinks(settings.base_url, settings.resolved_secret_key())


async def _kick_triggers(request: Request) -> None:
    try:
        await request.app.state.queue.kick("match_triggers")
    except Exception:  # the sweep finds the event anyway
        log.warning("could not kick match_triggers", exc_info=True)


def _record(
    session: Session, request: Request, name: str, ref: SendRef, url: str | None = None
) -> bool:
    """Never in the way of the contact: the pixel shows and the link leads on regardless."""
    try:
        with session.begin_nested():
            return record_tracking_event(session, name, ref, request.app.state.clock.now(), url=url)
    except Exception:
        log.exception("could not record %s", name)
        return False


@router.get("/t/o/{token}")
def open_pixel(token: str, request: Request, session: SessionDep) -> Response:
    ref = _tracker(request).read_open(token)
    if ref is None:
        return Response(status_code=404, headers=NO_STORE)
    recorded = _record(session, request, "email_opened", ref)
    task = BackgroundTask(_kick_triggers, request) if recorded else None
    return Response(PIXEL, media_type="image/gif", headers=NO_STORE, background=task)


@router.get("/t/c/{token}")
def click(token: str, request: Request, session: SessionDep) -> Response:
    found = _tracker(request).read_click(token)
    if found is None:
        with speaking(workspace_language(session)):  # whose link it was is unknown
            context = {"status": 404, "detail": _(BROKEN_LINK)}
            return render(request, "error.html", context, status_code=404)
    ref, url = found
    recorded = _record(session, request, "email_clicked", ref, url)
    task = BackgroundTask(_kick_triggers, request) if recorded else None
    return RedirectResponse(url, status_code=302, headers=NO_STORE, background=task)


@router.get("/u/{token}", response_class=HTMLResponse)
def unsubscribe_page(token: str, request: Request, session: SessionDep) -> HTMLResponse:
    """Written in the contact's language (unknown: the workspace's), whoever's browser it is."""
    link = _links(request).read(token)
    if link is None:
        with speaking(workspace_language(session)):
            return render(request, "unsubscribe.html", {"state": "broken"}, status_code=404)
    with speaking(reader_language(session, link.contact_id)):
        context = {"state": "confirm", "token": token, **page_context(session, link)}
        return render(request, "unsubscribe.html", context)


@router.post("/u/{token}")
def unsubscribe_now(
    token: str,
    request: Request,
    session: SessionDep,
    one_click: Annotated[str | None, Form(alias="List-Unsubscribe")] = None,
    action: Annotated[str, Form(max_length=20)] = "",
    keep: Annotated[list[str] | None, Form()] = None,
    shown: Annotated[list[str] | None, Form()] = None,
) -> Response:
    """The confirm button, and RFC 8058 one-click (``List-Unsubscribe=One-Click``) from mail
    clients, which expect a plain 200: both leave everything. The preference page's other
    buttons leave only the email's topic (``action=topic``) or keep the ticked topics
    (``action=choose``, ``keep``)."""
    link = _links(request).read(token)
    if link is None:
        if one_click:  # a mail client, not a person: the plain English of the API
            return PlainTextResponse(BROKEN_LINK, status_code=404)
        with speaking(workspace_language(session)):
            return render(request, "unsubscribe.html", {"state": "broken"}, status_code=404)
    language = reader_language(session, link.contact_id)
    if not one_click and action in ("topic", "choose"):
        with speaking(language):
            chosen = (set(keep or ()), set(shown) if shown is not None else None)
            return _topics_chosen(request, session, link, token, action, *chosen)
    done = None
    if link.contact_id is not None:
        done = unsubscribe(session, link.contact_id, request.app.state.clock.now(), key=link.key)
    if one_click:
        return PlainTextResponse("Unsubscribed.")
    task = BackgroundTask(_kick_triggers, request) if done and not done.already else None
    context = {"state": "done", "test": link.contact_id is None, "result": done}
    with speaking(language):
        response = render(request, "unsubscribe.html", context)
    response.background = task
    return response


def _topics_chosen(
    request: Request,
    session: Session,
    link: UnsubscribeLink,
    token: str,
    action: str,
    keep: set[str],
    shown: set[str] | None,
) -> HTMLResponse:
    """Leaves the email's topic, or keeps the ticked ones; general consent stays as it is."""
    now = request.app.state.clock.now()
    result = None
    if link.contact_id is not None and action == "choose":
        result = choose_topics(session, link.contact_id, keep, now, shown)
    elif link.contact_id is not None:  # a link without a topic leaves none
        result = leave_topic(session, link.contact_id, link.topic or "", now)
    context = {
        "state": "topics_saved",
        "token": token,
        "result": result,
        "action": action,
        **page_context(session, link),
    }
    return render(request, "unsubscribe.html", context)
