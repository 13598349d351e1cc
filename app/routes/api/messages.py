"""Message templates over the API: create or update by key, list, read (DESIGN §6)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field

from app.deps import SessionDep
from app.models import MessageTemplate
from app.services.messaging import messages as service
from app.services.messaging.messages import MessageIn

router = APIRouter(tags=["messages"])


class MessageOut(BaseModel):
    key: str
    name: str
    channel: str
    purpose: str
    subject: str
    html: str
    text: str
    from_name: str | None
    from_email: str | None
    reply_to: str | None
    topic: str | None
    created_at: datetime
    updated_at: datetime


def _out(template: MessageTemplate) -> MessageOut:
    return MessageOut.model_validate(template, from_attributes=True)


@router.post(
    "/messages",
    response_model=MessageOut,
    status_code=status.HTTP_201_CREATED,
    responses={200: {"description": "An existing message with this key was updated."}},
)
def save_message(
    body: MessageIn, session: SessionDep, request: Request, response: Response
) -> MessageOut:
    """Creates the message, or updates the one with the same `key`. Placeholders are checked:
    a template that cannot render is refused (422) with the line and the reason."""
    template, created = service.save_message(session, body, request.app.state.clock.now())
    if not created:
        response.status_code = status.HTTP_200_OK
    return _out(template)


@router.get("/messages", response_model=list[MessageOut])
def list_messages(session: SessionDep) -> list[MessageOut]:
    return [_out(t) for t in service.list_templates(session)]


@router.get("/messages/{key}", response_model=MessageOut)
def get_message(key: str, session: SessionDep) -> MessageOut:
    return _out(service.get_message(session, key))


class MessageRename(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(examples=["Welcome email (spring)"])


@router.patch("/messages/{key}", response_model=MessageOut, summary="Rename a message")
def rename_message(
    key: str, body: MessageRename, session: SessionDep, request: Request
) -> MessageOut:
    """A new name; the key stays, so the scenarios that send the message still find it."""
    template = service.rename_message(
        session,
        service.get_message(session, key),
        name=body.name,
        now=request.app.state.clock.now(),
    )
    return _out(template)


@router.delete(
    "/messages/{key}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={409: {"description": "A live scenario sends it; nothing was deleted."}},
)
def delete_message(key: str, session: SessionDep) -> Response:
    """Deletes the message; what was already sent stays in the Mailbox and the statistics."""
    service.delete_message(session, service.get_message(session, key))
    return Response(status_code=status.HTTP_204_NO_CONTENT)
