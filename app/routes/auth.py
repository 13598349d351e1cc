"""Login and logout for the UI."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from app.deps import CurrentUser, SessionDep, SettingsDep
from app.i18n import _
from app.routes.api.intake import client_address
from app.security import new_csrf_token
from app.services.account.login_throttle import (
    DEVICE_COOKIE,
    DEVICE_COOKIE_MAX_AGE,
    LoginThrottle,
    attempt_for,
    device_for,
    new_device_cookie,
    wait_words,
)
from app.services.account.sessions import (
    end_session,
    end_user_sessions,
    forget_expired_sessions,
    start_session,
)
from app.services.account.users import authenticate, normalize_email
from app.templating import render

router = APIRouter(tags=["auth"], include_in_schema=False)


def _safe_next(target: str | None) -> str:
    # Only local paths: "//evil.example" or "https://..." would make /login an open redirect.
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _throttle(request: Request) -> LoginThrottle:
    return LoginThrottle(request.app.state.queue.redis)


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str | None = None) -> Response:
    if request.session.get("sid"):
        return RedirectResponse(_safe_next(next), status_code=303)
    return render(request, "login.html", {"next": _safe_next(next), "email": ""})


@router.post("/login", response_class=HTMLResponse)
async def login(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    email: Annotated[str, Form(max_length=320)],
    password: Annotated[str, Form(max_length=1000)],
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    address = client_address(request)  # an IPv6 /64 is one address, as for the site key
    secret = settings.resolved_secret_key()
    device = device_for(secret, normalize_email(email), request.cookies.get(DEVICE_COOKIE))
    attempt = attempt_for(email=normalize_email(email), address=address, device=device)
    context = {"next": _safe_next(next), "email": email}
    clock = request.app.state.clock
    wait = await _throttle(request).admit(attempt, now=clock.now().timestamp())
    if wait:
        error = _(
            "Too many failed attempts. To protect this account, wait %(wait)s before trying again."
        ) % {"wait": wait_words(wait)}
        return render(
            request,
            "login.html",
            {**context, "error": error},
            status_code=429,
            headers={"Retry-After": str(wait)},
        )
    user = await run_in_threadpool(authenticate, session, email=email, password=password)
    if user is None:
        error = _("Wrong email or password.")
        return render(request, "login.html", {**context, "error": error}, status_code=401)
    await _throttle(request).succeeded(attempt)
    user_agent = request.headers.get("user-agent", "")
    sid = await run_in_threadpool(
        start_session, session, user, user_agent=user_agent, now=clock.now()
    )
    await run_in_threadpool(
        forget_expired_sessions,
        session,
        now=clock.now(),
        max_age=settings.session_max_age_seconds,
    )
    # A fresh session on login: nothing planted before it survives (session fixation).
    request.session.clear()
    request.session["sid"] = sid
    if user.language:
        request.session["lang"] = user.language
    request.session["csrf"] = new_csrf_token()
    response = RedirectResponse(_safe_next(next), status_code=303)
    if device is None:
        response.set_cookie(
            DEVICE_COOKIE,
            new_device_cookie(secret, user.email),
            max_age=DEVICE_COOKIE_MAX_AGE,
            httponly=True,
            samesite="lax",
            secure=settings.base_url.startswith("https://"),
        )
    return response


@router.post("/logout")
def logout(request: Request, session: SessionDep) -> Response:
    end_session(session, request.session.get("sid"))
    forget_all_but_language(request)
    return RedirectResponse("/login", status_code=303)


@router.post("/logout/everywhere")
def logout_everywhere(request: Request, session: SessionDep, user: CurrentUser) -> Response:
    assert user.id is not None
    end_user_sessions(session, user.id)
    forget_all_but_language(request)
    return RedirectResponse("/login", status_code=303)


def forget_all_but_language(request: Request) -> None:
    """The login page that follows a logout still speaks the language just used."""
    language = request.session.get("lang")
    request.session.clear()
    if language:
        request.session["lang"] = language
