"""Topics of marketing emails over the API, by stable key (DESIGN §6, §12.3)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field

from app.deps import SessionDep
from app.models import Topic
from app.services.messaging import topics as service

router = APIRouter(tags=["topics"])


class TopicIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str = Field(
        default="",
        examples=["offers"],
        description="Stable: messages and your code use it. Left out, it is derived from the "
        "name (`Bons plans` → `bons-plans`).",
    )
    name: str = Field(examples=["Offers"], description="What contacts read on the preference page")
    description: str = Field(default="", examples=["Sales and discount codes, twice a month"])


class TopicRename(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(examples=["Special offers"])
    description: str | None = Field(default=None, description="Left out: unchanged")


class TopicOut(BaseModel):
    key: str
    name: str
    description: str
    messages: int = Field(description="Message templates that carry the topic")
    left: int = Field(description="Contacts who left the topic")
    created_at: datetime


def _out(topic: Topic, messages: int = 0, left: int = 0) -> TopicOut:
    return TopicOut(
        key=topic.key,
        name=topic.name,
        description=topic.description,
        messages=messages,
        left=left,
        created_at=topic.created_at,
    )


def _one(session: SessionDep, key: str) -> TopicOut:
    for found in service.summaries(session):
        if found.topic.key == key:
            return _out(found.topic, found.messages, found.left)
    return _out(service.get_topic(session, key))  # raises 404


@router.get("/topics", response_model=list[TopicOut], summary="Every topic, by name")
def list_topics(session: SessionDep) -> list[TopicOut]:
    return [_out(s.topic, s.messages, s.left) for s in service.summaries(session)]


@router.post(
    "/topics",
    status_code=status.HTTP_201_CREATED,
    response_model=TopicOut,
    responses={409: {"description": "A topic with this key exists; nothing was written."}},
)
def create_topic(request: Request, body: TopicIn, session: SessionDep) -> TopicOut:
    """Creates a topic contacts can leave on the preference page. Messages carry it with
    `"topic": key` (`POST /api/v1/messages`)."""
    created = service.create_topic(
        session,
        key=body.key,
        name=body.name,
        description=body.description,
        now=request.app.state.clock.now(),
    )
    return _out(created)


@router.get("/topics/{key}", response_model=TopicOut)
def read_topic(key: str, session: SessionDep) -> TopicOut:
    return _one(session, key)


@router.patch("/topics/{key}", response_model=TopicOut, summary="Rename a topic")
def rename_topic(key: str, body: TopicRename, session: SessionDep) -> TopicOut:
    """A new name (and description); the key stays, so messages still carry the topic."""
    service.rename_topic(
        session, service.get_topic(session, key), name=body.name, description=body.description
    )
    return _one(session, key)


@router.delete(
    "/topics/{key}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={409: {"description": "A message carries it (they are named); nothing deleted."}},
)
def delete_topic(key: str, session: SessionDep) -> Response:
    """Deletes the topic and the contacts' choices about it; refused while a message
    carries it."""
    service.delete_topic(session, service.get_topic(session, key))
    return Response(status_code=status.HTTP_204_NO_CONTENT)
