"""The signup forms' public side: the hosted form (``/f/{key}``, embeddable in any site), its
POST, and the double opt-in link (``/f/confirm/{token}``). DESIGN §12.2.

No login, no CSRF token (``/f/`` is exempt: the form is posted from other sites' pages).
Instead: a honeypot field a person never sees — filled, the answer is a success and nothing is
written —, a budget per client address, and one per email address so nobody can flood an
inbox with confirmations. Pages speak the form's language, else the visitor's browser's; the
marketer's labels and wording are shown as written.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session
from starlette.background import BackgroundTasks
from starlette.concurrency import run_in_threadpool

from app.deps import SessionDep
from app.i18n import current, speaking
from app.models import SignupForm
from app.routes.api.intake import client_address, over_budget
from app.security_headers import CONTENT_SECURITY_POLICY
from app.services.capture import optin
from app.services.capture.forms import field_label, find_form, redirect_origin
from app.services.capture.forms_answers import HONEYPOT, Answers, read_answers
from app.services.contacts.fields import email_hash
from app.templating import render

log = logging.getLogger("parcours.forms")
router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)
NO_STORE = {"Cache-Control": "no-store, private"}
POSTS_PER_ADDRESS = 30  # sent forms per client address…
ADDRESS_WINDOW = 600  # …every 10 minutes
MAILS_PER_EMAIL = 3  # confirmation emails per address…
EMAIL_WINDOW = 3600  # …every hour


def frame_policy(form: SignupForm | None) -> str:
    """Any site may frame the form; it posts here, and may then be sent to its redirect."""
    targets = "'self'"
    origin = redirect_origin(form.redirect_url) if form is not None and form.redirect_url else None
    if origin is not None:
        targets += f" {origin}"
    policy = CONTENT_SECURITY_POLICY.replace("frame-ancestors 'none'", "frame-ancestors *")
    return policy.replace("form-action 'self'", f"form-action {targets}")


def _visitor(request: Request, form: SignupForm | None) -> optin.Visitor:
    return optin.Visitor(
        ip=request.client.host if request.client else "",
        user_agent=request.headers.get("user-agent", "")[:300],
        language=(form.language if form is not None else None) or current().language,
    )


def _page(
    request: Request,
    form: SignupForm | None,
    state: str,
    status: int = 200,
    **context: Any,
) -> HTMLResponse:
    headers = {**NO_STORE, "Content-Security-Policy": frame_policy(form)}
    with speaking(_visitor(request, form).language):
        labels = {f["name"]: field_label(f) for f in form.fields} if form else {}
        values = {"form": form, "state": state, "labels": labels, **context}
        return render(request, "forms/public.html", values, status_code=status, headers=headers)


def _wake(tasks: BackgroundTasks, request: Request) -> None:
    async def kick() -> None:
        for task in ("match_triggers", "deliver_outbox"):
            try:
                await request.app.state.queue.kick(task)
            except Exception:  # the sweep finds the work anyway
                log.warning("could not kick %s", task, exc_info=True)

    tasks.add_task(kick)


def _confirm_base(request: Request) -> str:
    return request.app.state.settings.base_url.rstrip("/") + "/f/confirm/"


def _now(request: Request) -> datetime:
    now: datetime = request.app.state.clock.now()
    return now


@router.get("/f/{key}")
def hosted_form(key: str, request: Request, session: SessionDep) -> HTMLResponse:
    form = find_form(session, key)
    if form is None:
        return _page(request, None, "missing", 404)
    return _page(request, form, "form", typed={}, problems={})


@router.post("/f/{key}")
async def send_form(key: str, request: Request, session: SessionDep) -> Response:
    form = find_form(session, key)
    if form is None:
        return _page(request, None, "missing", 404)
    wait = await over_budget(
        request, f"form-address:{client_address(request)}", POSTS_PER_ADDRESS, ADDRESS_WINDOW
    )
    if wait is not None:
        busy = _page(request, form, "busy", 429, wait=wait)
        busy.headers["Retry-After"] = str(wait)
        return busy
    raw = {name: value for name, value in (await request.form()).items() if isinstance(value, str)}
    if raw.get(HONEYPOT, "").strip():
        return _thanks(request, form)  # a robot: it is told it worked, and nothing is written
    with speaking(_visitor(request, form).language):
        answers = read_answers(form, raw)
    if answers.problems:
        return _page(request, form, "form", 422, typed=answers.typed, problems=answers.problems)
    if form.double_opt_in:
        bucket = f"form-email:{email_hash(answers.email)}"
        if await over_budget(request, bucket, MAILS_PER_EMAIL, EMAIL_WINDOW) is not None:
            return _page(request, form, "already_sent")
    tasks = BackgroundTasks()
    # The database work off the event loop (SQLite may make it wait for its turn).
    await run_in_threadpool(_submit, session, request, form, answers, tasks)
    response = _thanks(request, form)
    response.background = tasks
    return response


def _submit(
    session: Session,
    request: Request,
    form: SignupForm,
    answers: Answers,
    tasks: BackgroundTasks,
) -> None:
    visitor = _visitor(request, form)
    optin.submit(
        session, form, answers, visitor, _now(request), confirm_base=_confirm_base(request)
    )
    session.commit()  # before the engine and the sender are woken, and before the answer
    _wake(tasks, request)


def _thanks(request: Request, form: SignupForm) -> Response:
    if form.redirect_url:
        headers = {**NO_STORE, "Content-Security-Policy": frame_policy(form)}
        return RedirectResponse(form.redirect_url, status_code=303, headers=headers)
    return _page(request, form, "thanks")


@router.get("/f/confirm/{token}")
def confirm_page(token: str, request: Request, session: SessionDep) -> HTMLResponse:
    """A button, not the confirmation itself: mail scanners open links, and their visit must
    not become someone's consent (nor its proof)."""
    found = optin.find_pending(session, token, _now(request))
    status = 404 if found.state == "broken" else 200
    return _page(request, found.form, found.state, status, token=token)


@router.post("/f/confirm/{token}")
def confirm_now(token: str, request: Request, session: SessionDep) -> HTMLResponse:
    done = optin.confirm(session, token, _visitor(request, None), _now(request))
    status = 404 if done.state == "broken" else 200
    response = _page(request, done.form, done.state, status, token=token)
    if done.state == "confirmed":
        session.commit()
        tasks = BackgroundTasks()
        _wake(tasks, request)
        response.background = tasks
    return response


@router.post("/f/confirm/{token}/resend")
async def resend(token: str, request: Request, session: SessionDep) -> HTMLResponse:
    now = _now(request)
    found = await run_in_threadpool(optin.find_pending, session, token, now, lock=True)
    if found.pending is None or found.state in {"broken", "already"}:
        status = 404 if found.state == "broken" else 200
        return _page(request, found.form, found.state, status, token=token)
    bucket = f"form-email:{email_hash(found.pending.email)}"
    if await over_budget(request, bucket, MAILS_PER_EMAIL, EMAIL_WINDOW) is not None:
        return _page(request, found.form, "already_sent")
    language = _visitor(request, found.form).language
    await run_in_threadpool(optin.resend, session, found, language, now, _confirm_base(request))
    await run_in_threadpool(session.commit)
    tasks = BackgroundTasks()
    _wake(tasks, request)
    response = _page(request, found.form, "resent")
    response.background = tasks
    return response
