"""Tracking events over the API: one at a time or in batches of up to 1,000 (DESIGN §6).

The answer is 202 only once the events are in the database (the request's transaction commits
before the response is sent); then the engine is woken. Bodies are read and capped here
(413 past ``PARCOURS_EVENTS_MAX_BODY_BYTES``) and parsed by ``app.services.contacts.events``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, BackgroundTasks, Depends, Request, status
from pydantic import BaseModel
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from app.deps import SessionDep
from app.routes.api.intake import (
    ingest_rate_limit,
    json_body,
    read_body,
    wake_engine,
)
from app.services.contacts.event_groups import GroupWriter
from app.services.contacts.events import (
    EventBatch,
    EventIn,
    EventsRefused,
    Ingested,
    parse_batch,
    parse_event,
)

# Included by app.main (not the shared API router) so that authentication does not hold
# SQLite's write lock for the whole request; see app.routes.api.intake.ingest_key.
router = APIRouter(prefix="/api/v1", tags=["events"], dependencies=[Depends(ingest_rate_limit)])

REFUSED = {
    401: {"description": "Missing or wrong API key"},
    413: {"description": "Body too large, or too many events in a batch"},
    422: {"description": "Invalid JSON or invalid events; nothing was stored"},
    429: {"description": "Rate limit reached; see the Retry-After header"},
}


class EventAccepted(BaseModel):
    status: Literal["accepted"] = "accepted"
    id: str


class BatchAccepted(BaseModel):
    status: Literal["accepted"] = "accepted"
    accepted: int
    ids: list[str]


@router.post(
    "/events",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=EventAccepted,
    responses=REFUSED,  # type: ignore[arg-type]
    openapi_extra=json_body(EventIn),
    summary="Track one event",
)
async def track_event(
    request: Request, session: SessionDep, background: BackgroundTasks
) -> EventAccepted:
    """Stores the event (an unknown `contact.email` creates the contact). Posting the same `id`
    again stores nothing new and gets the same answer."""
    body = await read_body(request, request.app.state.settings.events_max_body_bytes)
    now = request.app.state.clock.now()
    event = parse_event(body, now)
    result = await run_in_threadpool(_store, request, session, [event], now, False)
    background.add_task(wake_engine, request.app)
    return EventAccepted(id=result.ids[0])


@router.post(
    "/events/batch",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=BatchAccepted,
    responses=REFUSED,  # type: ignore[arg-type]
    openapi_extra=json_body(EventBatch),
    summary="Track up to 1,000 events at once",
)
async def track_batch(
    request: Request, session: SessionDep, background: BackgroundTasks
) -> BatchAccepted:
    """All or nothing: if one event is invalid, none is stored and the answer lists the index
    and the reason of each bad one."""
    settings = request.app.state.settings
    body = await read_body(request, settings.events_max_body_bytes)
    now = request.app.state.clock.now()
    events = parse_batch(body, now)
    if len(events) > settings.events_max_batch:
        raise EventsTooMany(settings.events_max_batch, len(events))
    result = await run_in_threadpool(_store, request, session, events, now, True)
    background.add_task(wake_engine, request.app)
    return BatchAccepted(accepted=len(events), ids=result.ids)


def _store(
    request: Request, session: Session, events: list[EventIn], now: datetime, batch: bool
) -> Ingested:
    """Writes and commits (202 means stored), grouped with concurrent requests of this
    process into one transaction (app/services/contacts/event_groups.py)."""
    writer: GroupWriter = request.app.state.__dict__.setdefault("event_writer", GroupWriter())
    return writer.submit(session, events, now, batch=batch)


class EventsTooMany(EventsRefused):
    status_code = status.HTTP_413_CONTENT_TOO_LARGE

    def __init__(self, limit: int, given: int) -> None:
        super().__init__(
            f"A batch holds at most {limit:,} events; this one has {given:,}. "
            "Split it into several batches.",
            [],
        )
