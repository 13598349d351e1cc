"""Mail providers' webhooks: ``POST /hooks/mailgun`` and ``POST /hooks/sendgrid`` (DESIGN §12.4).

No API key and no CSRF token: the provider's signature over the body is the proof, checked
before anything is read as a report; a call signed more than 5 minutes away from now is
refused as a possible replay, and one applied already (kept in Redis for 10 minutes) is
answered 200 without being applied again. A hook whose key is not configured answers 404
in words.
The reports go through the same path as ``POST /api/v1/email-events``.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, BackgroundTasks, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from app.deps import SessionDep
from app.routes.api.intake import wake_engine
from app.services.messaging.email_reports import Report, apply_reports
from app.services.messaging.webhook_formats import (
    Refused,
    mailgun,
    remember,
    seen_before,
    sendgrid,
)

router = APIRouter(prefix="/hooks", tags=["mail provider webhooks"], include_in_schema=False)


def _off(provider: str, setting: str) -> JSONResponse:
    detail = f"{provider} webhooks are not set up on this Parcours: set {setting} to receive them."
    return JSONResponse({"detail": detail}, status_code=404)


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None


async def _apply(
    request: Request,
    session: SessionDep,
    background: BackgroundTasks,
    reports: list[Report],
    source: str,
    signed: bytes,
) -> JSONResponse:
    redis = request.app.state.queue.redis
    if await seen_before(redis, source, signed):
        detail = "This call was received already: nothing was applied again."
        return JSONResponse({"detail": detail})
    now = request.app.state.clock.now()
    # The database work off the event loop, as the other intake routes do.
    tally = await run_in_threadpool(apply_reports, session, reports, now, source=source)
    # Background tasks run once the session has committed (SessionDep ends with the route).
    background.add_task(remember, redis, source, signed)
    background.add_task(wake_engine, request.app)  # email_bounced may start scenarios
    return JSONResponse(tally.as_dict())


@router.post("/mailgun")
async def mailgun_hook(
    request: Request, session: SessionDep, background: BackgroundTasks
) -> JSONResponse:
    key = request.app.state.settings.mailgun_signing_key
    if not key:
        return _off("Mailgun", "PARCOURS_MAILGUN_SIGNING_KEY")
    body = _json(await request.body())
    if not isinstance(body, dict):
        return JSONResponse(
            {"detail": "Mailgun sends one JSON object with signature and event-data."},
            status_code=400,
        )
    try:
        mailgun.verify(key, body, request.app.state.clock.now())
    except Refused as refused:
        return JSONResponse({"detail": refused.message}, status_code=refused.status_code)
    signed = mailgun.signed_part(body)
    return await _apply(request, session, background, mailgun.reports(body), "mailgun", signed)


@router.post("/sendgrid")
async def sendgrid_hook(
    request: Request, session: SessionDep, background: BackgroundTasks
) -> JSONResponse:
    configured = request.app.state.settings.sendgrid_public_key
    if not configured:
        return _off("SendGrid", "PARCOURS_SENDGRID_PUBLIC_KEY")
    try:
        key = sendgrid.public_key(configured)
    except sendgrid.KeyProblem:
        detail = (
            "PARCOURS_SENDGRID_PUBLIC_KEY is not an ECDSA public key: paste the verification "
            "key SendGrid shows for the Signed Event Webhook."
        )
        return JSONResponse({"detail": detail}, status_code=503)
    raw = await request.body()
    headers = request.headers
    try:
        sendgrid.verify(
            key,
            headers.get(sendgrid.SIGNATURE_HEADER),
            headers.get(sendgrid.TIMESTAMP_HEADER),
            raw,
            request.app.state.clock.now(),
        )
    except Refused as refused:
        return JSONResponse({"detail": refused.message}, status_code=refused.status_code)
    events = _json(raw)
    if not isinstance(events, list):
        return JSONResponse({"detail": "SendGrid sends a JSON list of events."}, status_code=400)
    signed = str(headers.get(sendgrid.TIMESTAMP_HEADER)).encode() + raw
    return await _apply(request, session, background, sendgrid.reports(events), "sendgrid", signed)
