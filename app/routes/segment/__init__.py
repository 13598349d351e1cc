"""Segment-compatible intake: ``/segment/v1/batch`` and the single calls (DESIGN §12.1).

A shop's Segment library points ``host`` at ``BASE_URL/segment``; RudderStack's at
``dataPlaneUrl = BASE_URL/segment`` or plainly ``BASE_URL`` (its libraries post to
``/v1/batch`` under it, so the same routes answer under ``/v1`` too).

Authentication is HTTP Basic with a Parcours API key as the user name (how both libraries
send their write key), or ``Bearer <key>``. Like ``/api/v1/events`` these routes are included
by ``app.main`` ahead of the shared API router and look the key up with the event intake's own
``intake_key`` — remembered keys cost no database session, and a lookup never holds SQLite's
write lock — and count against the key's rate limit. Bodies may be gzipped (``gzip_body.py``).
Events are written by the event intake's group writer, with ``/api/v1/events``'s own. The
answer is 200 only once everything is committed.
"""

from __future__ import annotations

import base64
import binascii
import logging
import random
import time
from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import Any

from fastapi import APIRouter, BackgroundTasks, HTTPException, Request
from sqlalchemy.exc import DBAPIError, IntegrityError
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, Response

from app.deps import session_for
from app.i18n import speaking
from app.routes.api.intake import (
    check_rate,
    event_writer,
    intake_key,
    json_body,
    read_body,
    wake_engine,
)
from app.routes.segment.answers import SUCCESS, refusal
from app.routes.segment.schema import SegmentBatch, SegmentMessage
from app.services.capture.segment_links import KnownLinks
from app.services.capture.segment_messages import (
    Message,
    SegmentRefused,
    parse_batch,
    parse_single,
)
from app.services.capture.segment_people import LateConflict
from app.services.capture.segment_store import needs_preparing, prepare
from app.services.contacts.events import EventIn, EventsRefused
from app.services.errors import ServiceError

MAX_CALL_BYTES = 500 * 1024  # Segment's limit per call
# Tries of the first transaction (about 5 s at most): on PostgreSQL it gives up a lock the
# event writer holds rather than wait for it (segment_people._lock_rekeyed).
PREPARE_ATTEMPTS = 8
SINGLE_CALLS = ("identify", "track", "page", "screen", "group", "alias")
PREFIXES = ("/segment/v1", "/v1")

router = APIRouter(tags=["segment"])
log = logging.getLogger("parcours.segment")

DOCUMENTED = {
    200: {"description": '`{"success": true}`: everything is stored'},
    400: {"description": "A bad call or message (index and reason of each); nothing stored"},
    401: {"description": "Missing or wrong API key (HTTP Basic, the key as user name)"},
    413: {"description": "Over 500 KB (once decompressed)"},
    429: {"description": "Rate limit reached; see the Retry-After header"},
}


class _Refusal(Exception):
    def __init__(self, response: Response) -> None:
        self.response = response


async def batch(request: Request, background: BackgroundTasks) -> Response:
    """Segment's batch: `{"batch": [messages], "context"?}`, all or nothing."""
    limit = request.app.state.settings.events_max_batch

    def parse(body: bytes, now: datetime) -> list[Message]:
        return parse_batch(body, now, max_messages=limit)

    return await _handle(request, background, parse)


def _single(kind: str) -> Callable[..., Coroutine[Any, Any, Response]]:
    async def call(request: Request, background: BackgroundTasks) -> Response:
        return await _handle(request, background, lambda body, now: [parse_single(kind, body, now)])

    call.__name__ = f"segment_{kind}"
    call.__doc__ = f"Segment's `{kind}` call: one message (its `type` may be left out)."
    return call


for _prefix in PREFIXES:
    documented = _prefix == PREFIXES[0]
    # /import: the batch's older name, still used by Segment's Ruby and Java libraries.
    for _name in ("batch", "import"):
        router.add_api_route(
            f"{_prefix}/{_name}",
            batch,
            methods=["POST"],
            responses=DOCUMENTED,  # type: ignore[arg-type]
            openapi_extra=json_body(SegmentBatch),
            include_in_schema=documented and _name == "batch",
            name=f"segment_{_name}{'' if documented else '_v1'}",
            summary="Segment / RudderStack batch",
        )
    for _kind in SINGLE_CALLS:
        router.add_api_route(
            f"{_prefix}/{_kind}",
            _single(_kind),
            methods=["POST"],
            responses=DOCUMENTED,  # type: ignore[arg-type]
            openapi_extra=json_body(SegmentMessage),
            include_in_schema=documented,
            name=f"segment_{_kind}{'' if documented else '_v1'}",
            summary=f"Segment / RudderStack {_kind}",
        )


async def _handle(
    request: Request,
    background: BackgroundTasks,
    parse: Callable[[bytes, datetime], list[Message]],
) -> Response:
    try:
        key_id = await _authenticate(request)
        await _rate(request, key_id)
        body = await _body(request)
        now = request.app.state.clock.now()
        events, prepared = await run_in_threadpool(_parse_and_prepare, request, parse, body, now)
        if events:  # committed when this returns; the writer wakes the engine after it
            await event_writer(request.app).write(events, now, batch=True)
    except _Refusal as refused:
        return refused.response
    except SegmentRefused as refused:
        return refusal(400, "invalid_request", refused.message, refused.errors)
    except EventsRefused as refused:  # a contact deleted while the call was being written
        return refusal(400, "invalid_request", refused.message, refused.errors)
    except ServiceError as error:  # a change the contact cannot take (e.g. losing its email)
        return refusal(400, "invalid_request", error.message)
    except DBAPIError as error:
        if not is_conflict(error):
            raise  # SQLite busy: app.main answers 503 with Retry-After
        log.warning("segment call kept meeting other writes; answered 503", exc_info=True)
        message = "Other calls were writing the same people; send this one again."
        return refusal(503, "busy", message, headers={"Retry-After": "2"})
    except LateConflict:
        log.warning("segment call raced another creating the same person; answered 503")
        message = "The same person was being created by another call; send this one again."
        return refusal(503, "busy", message, headers={"Retry-After": "2"})
    if prepared:  # contacts created or changed: their events are for the engine too
        background.add_task(wake_engine, request.app)
    return JSONResponse(SUCCESS)


async def _authenticate(request: Request) -> int:
    key = _key(request.headers.get("authorization") or "")
    if key:
        try:
            return await intake_key(request, f"Bearer {key}")
        except HTTPException:
            pass
    message = (
        "Missing or invalid API key. Use a Parcours API key as the write key "
        "(HTTP Basic: the key as user name, no password)."
    )
    challenge = {"WWW-Authenticate": 'Basic realm="Parcours"'}
    raise _Refusal(refusal(401, "unauthorized", message, headers=challenge))


def _key(authorization: str) -> str:
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() == "bearer":
        return value.strip()
    if scheme.lower() != "basic":
        return ""
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return ""
    return decoded.partition(":")[0].strip()


async def _rate(request: Request, key_id: int) -> None:
    try:
        await check_rate(request, f"key:{key_id}")
    except HTTPException as limited:
        message = "Too many calls for this API key; the library will send again later."
        headers = dict(limited.headers or {})
        raise _Refusal(refusal(429, "rate_limited", message, headers=headers)) from None


async def _body(request: Request) -> bytes:
    try:
        return await read_body(request, MAX_CALL_BYTES)
    except HTTPException:
        message = (
            f"The body is larger than {MAX_CALL_BYTES // 1024} KB (Segment's limit per call); "
            "send fewer messages per batch."
        )
        raise _Refusal(refusal(413, "payload_too_large", message)) from None


def _parse_and_prepare(
    request: Request,
    parse: Callable[[bytes, datetime], list[Message]],
    body: bytes,
    now: datetime,
) -> tuple[list[EventIn], bool]:
    """In a worker thread: checks the whole call and, when it names people, links or anonymous
    ids, writes those in one transaction (``segment_store.prepare``), committed before the
    events go to the event writer; the events to write, and whether anything was written."""
    with speaking("en"):  # the API's words are English (DESIGN §10)
        messages = parse(body, now)
        if not needs_preparing(messages):
            return [m.event for m in messages if m.event is not None], False
        known: KnownLinks = request.app.state.__dict__.setdefault("segment_links", KnownLinks())
        for attempt in range(1, PREPARE_ATTEMPTS + 1):
            with session_for(request.app) as session:
                try:
                    events, links = prepare(session, messages, now, known)
                    session.commit()
                    break
                except DBAPIError as error:
                    session.rollback()
                    if not is_conflict(error) or attempt == PREPARE_ATTEMPTS:
                        raise
            # A lock not given in time (segment_people.LOCK_WAIT_MS) or a deadlock: the
            # transaction is idempotent, so it runs again from the start.
            time.sleep(min(0.05 * 2**attempt, 1.0) * random.uniform(0.5, 1.5))
        known.put(links)
        return events, True


def is_conflict(error: DBAPIError) -> bool:
    """A write that met another one and can simply run again: PostgreSQL's deadlock,
    serialization failure or lock wait given up, or a row deleted or created meanwhile (a
    contact erased while the call linked to it)."""
    if isinstance(error, IntegrityError):
        return True
    return getattr(error.orig, "sqlstate", None) in ("40P01", "40001", "55P03")
