"""Message templates over the API: create or update by key, list, read (DESIGN §6)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request, Response, status
from pydantic import BaseModel

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
