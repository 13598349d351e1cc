"""Tracking events over the API: one at a time or in batches of up to 1,000 (DESIGN §6).

The answer is 202 only once the events are in the database: the process's event writer
(``app.services.contacts.event_groups``) commits them, grouped with concurrent requests, and
then wakes the engine. Bodies are read and capped here
(413 past ``PARCOURS_EVENTS_MAX_BODY_BYTES``) and parsed by ``app.services.contacts.events``.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Request, Response, status
from pydantic import BaseModel

from app.routes.api.intake import event_writer, ingest_rate_limit, json_body, read_body
from app.routes.api.lean_route import LeanRoute
from app.services.contacts.events import (
    EventBatch,
    EventIn,
    EventsRefused,
    parse_batch,
    parse_event,
)

# Included by app.main (not the shared API router) so that authentication does not hold
# SQLite's write lock for the whole request (app.routes.api.intake.intake_key); lean routes, so
# that FastAPI's parameter work does not cost more than the event (app.routes.api.lean_route).
router = APIRouter(prefix="/api/v1", tags=["events"], route_class=LeanRoute)
LIMITED = [Depends(ingest_rate_limit)]
JSON = "application/json"

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
    dependencies=LIMITED,
)
async def track_event(request: Request) -> Response:
    """Stores the event (an unknown `contact.email` creates the contact). Posting the same `id`
    again stores nothing new and gets the same answer."""
    body = await read_body(request, request.app.state.settings.events_max_body_bytes)
    now = request.app.state.clock.now()
    event = parse_event(body, now)
    result = await event_writer(request.app).write([event], now, batch=False)
    return _accepted(EventAccepted(id=result.ids[0]))


@router.post(
    "/events/batch",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=BatchAccepted,
    responses=REFUSED,  # type: ignore[arg-type]
    openapi_extra=json_body(EventBatch),
    summary="Track up to 1,000 events at once",
    dependencies=LIMITED,
)
async def track_batch(request: Request) -> Response:
    """All or nothing: if one event is invalid, none is stored and the answer lists the index
    and the reason of each bad one."""
    settings = request.app.state.settings
    body = await read_body(request, settings.events_max_body_bytes)
    now = request.app.state.clock.now()
    events = parse_batch(body, now)
    if len(events) > settings.events_max_batch:
        raise EventsTooMany(settings.events_max_batch, len(events))
    result = await event_writer(request.app).write(events, now, batch=True)
    return _accepted(BatchAccepted(accepted=len(events), ids=result.ids))


def _accepted(answer: BaseModel) -> Response:
    # Answered as bytes: the model is ours and already valid, so FastAPI need not check it
    # again (``response_model`` still documents it).
    return Response(answer.__pydantic_serializer__.to_json(answer), 202, media_type=JSON)


class EventsTooMany(EventsRefused):
    status_code = status.HTTP_413_CONTENT_TOO_LARGE

    def __init__(self, limit: int, given: int) -> None:
        super().__init__(
            f"A batch holds at most {limit:,} events; this one has {given:,}. "
            "Split it into several batches.",
            [],
        )
