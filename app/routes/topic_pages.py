"""Settings → Topics (create, rename, delete) and a contact's topics changed by a marketer.

Topics are what marketing emails are about; contacts leave them on the preference page
(DESIGN §12.3). Deleting one is refused while a message carries it, naming those messages.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session

from app.deps import SessionDep, get_current_user
from app.graph.wording import quote
from app.i18n import N_, _
from app.inputs import Int32
from app.models import User
from app.services.contacts.contacts import get_contact
from app.services.errors import ServiceError
from app.services.messaging import topic_choices, topics
from app.templating import render

router = APIRouter(
    dependencies=[Depends(get_current_user)],
    include_in_schema=False,
    default_response_class=HTMLResponse,
)
PAGE = "settings_topics.html"
CHANGED_BY = "changed by "
# The sources Parcours writes (in English, as stored data is), in the reader's words.
SOURCE_WORDS = {
    "api": N_("your shop (API)"),
    "preference page": N_("the contact, on the preference page"),
}


def _page(request: Request, session: Session, status_code: int = 200, **extra: Any) -> HTMLResponse:
    context = {"topics": topics.summaries(session), **extra}
    return render(request, PAGE, context, status_code=status_code)


@router.get("/settings/topics")
def topics_page(request: Request, session: SessionDep) -> HTMLResponse:
    return _page(request, session)


@router.post("/settings/topics")
def create_topic(
    request: Request,
    session: SessionDep,
    name: Annotated[str, Form(max_length=1000)] = "",
    key: Annotated[str, Form(max_length=1000)] = "",
    description: Annotated[str, Form(max_length=2000)] = "",
) -> HTMLResponse:
    try:
        with session.begin_nested():  # a refusal writes nothing
            created = topics.create_topic(
                session, key=key, name=name, description=description,
                now=request.app.state.clock.now(),
            )  # fmt: skip
    except ServiceError as exc:
        form = {"name": name, "key": key, "description": description}
        return _page(request, session, exc.status_code, error=exc.message, form=form)
    return _page(
        request, session, notice=_("Topic %(name)s created.") % {"name": quote(created.name)}
    )


@router.post("/settings/topics/{key}/rename")
def rename_topic(
    request: Request,
    session: SessionDep,
    key: str,
    name: Annotated[str, Form(max_length=1000)] = "",
    description: Annotated[str, Form(max_length=2000)] = "",
) -> HTMLResponse:
    topic = topics.get_topic(session, key)
    try:
        with session.begin_nested():
            topics.rename_topic(session, topic, name=name, description=description)
    except ServiceError as exc:
        session.refresh(topic)
        return _page(request, session, exc.status_code, error=exc.message)
    return _page(request, session, notice=_("Saved."))


@router.post("/settings/topics/{key}/delete")
def delete_topic(request: Request, session: SessionDep, key: str) -> HTMLResponse:
    topic = topics.get_topic(session, key)
    name = topic.name
    try:
        topics.delete_topic(session, topic)
    except ServiceError as exc:
        return _page(request, session, exc.status_code, error=exc.message)
    return _page(request, session, notice=_("Topic %(name)s deleted.") % {"name": quote(name)})


@router.post("/contacts/{contact_id}/topics")
def save_contact_topics(
    request: Request,
    session: SessionDep,
    contact_id: Int32,
    keep: Annotated[list[str] | None, Form()] = None,
    shown: Annotated[list[str] | None, Form()] = None,
) -> Response:
    """The contact's page: ticked topics are in, the others the page showed left (a topic
    created since it was opened is left as it was), as said by this user."""
    contact = get_contact(session, contact_id)
    assert contact.id is not None
    user: User = request.state.user
    kept = set(keep or ())
    choices = {
        c.topic.id: c.topic.key in kept
        for c in topic_choices.choices_of(session, contact.id)
        if c.topic.id is not None and (shown is None or c.topic.key in shown)
    }
    topic_choices.choose(
        session, contact.id, choices, now=request.app.state.clock.now(),
        source=CHANGED_BY + (user.name or user.email),
    )  # fmt: skip
    return Response(status_code=303, headers={"Location": f"/contacts/{contact.id}#topics"})


def source_words(source: str | None) -> str:
    """Who made a topic choice, in the reader's words."""
    if not source:
        return ""
    if source.startswith(CHANGED_BY):
        return _("changed by %(who)s") % {"who": source[len(CHANGED_BY) :]}
    return _(SOURCE_WORDS[source]) if source in SOURCE_WORDS else source


def contact_topics(session: Session, contact_id: int) -> list[dict[str, Any]]:
    """The contact page's Topics card: every topic, in or left, since when and by whom."""
    return [
        {"topic": c.topic, "subscribed": c.subscribed, "at": c.changed_at,
         "source": source_words(c.source)}
        for c in topic_choices.choices_of(session, contact_id)
    ]  # fmt: skip
