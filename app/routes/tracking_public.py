"""``POST /api/track``: where the website snippet (``/static/js/parcours-track.js``) sends to.

Public and key-scoped: the body carries a *site key* (see
``app.services.account.tracking_keys``), which
can only add events for a visitor identified by email, and give a first and last name to a
visitor it creates — never change an existing contact, read data, grant consent, change a
score or touch lists (``app.services.capture.site_tracking``). Its requests count against budgets of
their own, per site key and per client address, never against the API key's. Bodies are plain
text JSON so browsers send them without a CORS preflight (``navigator.sendBeacon``). Same rules
as the events API: de-duplicated by event id, all or nothing, 202 once stored.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, BackgroundTasks, HTTPException, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.concurrency import run_in_threadpool

from app.deps import SessionDep
from app.routes.api.intake import client_address, over_budget, read_body, wake_engine
from app.services.account.tracking_keys import find_by_site_key
from app.services.capture.site_tracking import record_visit
from app.services.contacts.events import EventContact, EventIn, EventsRefused, batch_problems
from app.services.contacts.fields import (
    ContactData,
    FieldProblem,
    contact_data,
    normalize_language,
)

router = APIRouter(tags=["tracking"])
MAX_BODY = 64_000
MAX_EVENTS = 50
CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "POST, OPTIONS",
    "Access-Control-Allow-Headers": "Content-Type",
    "Access-Control-Max-Age": "86400",
}


class Visitor(EventContact):
    first_name: str | None = Field(default=None, max_length=200)
    last_name: str | None = Field(default=None, max_length=200)
    # The browser's language (navigator.language), kept on a contact the visit creates.
    language: str | None = Field(default=None, max_length=35)


class TrackedEvent(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str | None = Field(default=None, min_length=1, max_length=100)
    name: str = Field(min_length=1, max_length=100)
    properties: dict[str, Any] = Field(default_factory=dict)
    occurred_at: str | None = None


class TrackBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str = Field(description="The site key shown on the page Contacts, Track your website")
    contact: Visitor
    identify: bool = Field(default=False, description="Also save the visitor's names")
    events: list[TrackedEvent] = Field(default_factory=list, max_length=MAX_EVENTS)


@router.options("/api/track", include_in_schema=False)
def preflight() -> Response:
    return Response(status_code=204, headers=CORS)


@router.post("/api/track", status_code=status.HTTP_202_ACCEPTED, summary="Website snippet intake")
async def track(
    request: Request, session: SessionDep, background: BackgroundTasks, response: Response
) -> dict[str, str]:
    response.headers.update(CORS)
    settings = request.app.state.settings
    window = settings.site_rate_limit_window_seconds
    address = client_address(request)
    # Counted before the body is read, so a flood with made-up keys costs little.
    retry_after = await over_budget(
        request, f"site-address:{address}", settings.site_rate_limit_per_address, window
    )
    if retry_after is not None:
        raise _too_many(
            f"Too many tracking requests from your address: at most "
            f"{settings.site_rate_limit_per_address} every {window} seconds.",
            retry_after,
        )
    try:
        body = TrackBody.model_validate_json(await read_body(request, MAX_BODY))
    except ValidationError as error:
        reasons = [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors()][:10]
        raise HTTPException(422, detail="; ".join(reasons), headers=CORS) from None
    key = await run_in_threadpool(find_by_site_key, session, request.app.state.settings, body.key)
    if key is None:
        raise HTTPException(401, detail="Unknown site key.", headers=CORS)
    retry_after = await over_budget(request, f"site:{key.id}", settings.site_rate_limit, window)
    if retry_after is not None:
        raise _too_many(
            f"Too many tracking requests for this site key: at most "
            f"{settings.site_rate_limit} every {window} seconds.",
            retry_after,
        )
    if body.contact.email is None:
        raise HTTPException(422, detail="The visitor needs an email.", headers=CORS)
    now = request.app.state.clock.now()
    try:
        events = [
            EventIn.model_validate(
                {**e.model_dump(exclude_none=True), "contact": {"email": body.contact.email}}
            )
            for e in body.events
        ]
    except ValidationError as error:
        reason = str(error.errors()[0]["msg"]).removeprefix("Value error, ")
        raise HTTPException(422, detail=reason, headers=CORS) from None
    problems = batch_problems(events, now)
    if problems:
        raise EventsRefused("Some events were refused; nothing was stored.", problems)
    visitor: ContactData | None = None
    if body.identify:
        names = {
            "first_name": body.contact.first_name,
            "last_name": body.contact.last_name,
            "language": _language(body.contact.language),
        }
        try:
            visitor = contact_data(
                email=body.contact.email,
                attributes={k: v for k, v in names.items() if v},
                now=now,
                source="website",
            )
        except FieldProblem as problem:
            raise HTTPException(422, detail=str(problem), headers=CORS) from None
    await run_in_threadpool(record_visit, session, visitor, events, now)
    background.add_task(wake_engine, request.app)
    return {"status": "accepted"}


def _language(raw: str | None) -> str | None:
    """A browser's language that is not a language tag is left out, not the visit refused."""
    try:
        return normalize_language(raw)
    except FieldProblem:
        return None


def _too_many(message: str, retry_after: int) -> HTTPException:
    return HTTPException(
        status.HTTP_429_TOO_MANY_REQUESTS,
        detail=f"{message} Try again in {retry_after} s.",
        headers={**CORS, "Retry-After": str(retry_after)},
    )
