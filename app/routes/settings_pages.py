"""Settings: API keys (shown once) and the people who can log in."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from app.deps import CurrentUser, SessionDep, SettingsDep, get_current_user
from app.i18n import _
from app.i18n.speaker import time_zone_names
from app.inputs import Int32
from app.models import User
from app.routes.api.intake import client_address
from app.routes.sending_rules_form import (
    FormProblems,
    form_values,
    priority_choices,
    rules_from_form,
    weekday_names,
)
from app.services.account import api_keys, preferences, users
from app.services.account import sessions as user_sessions
from app.services.account.login_throttle import LoginThrottle, attempt_for, wait_words
from app.services.errors import ServiceError
from app.services.messaging.sending_rules import write as write_rules
from app.templating import render

router = APIRouter(
    prefix="/settings",
    dependencies=[Depends(get_current_user)],
    include_in_schema=False,
    default_response_class=HTMLResponse,
)


def _page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    *,
    block: str | None = None,
    status_code: int = 200,
    **extra: object,
) -> HTMLResponse:
    user: User = request.state.user
    assert user.id is not None
    context = {
        "open_sessions": user_sessions.count_user_sessions(
            session,
            user.id,
            now=request.app.state.clock.now(),
            max_age=settings.session_max_age_seconds,
        ),
        "api_keys": api_keys.list_api_keys(session),
        "users": users.list_users(session),
        "smtp_configured": bool(settings.smtp_url),
        "settings": settings,
        "contact_language": preferences.workspace_language(session),
        "time_zones": sorted(time_zone_names()),
        "user_time_zone": user.time_zone or settings.time_zone,
        "preferences_saved": request.query_params.get("saved") == "preferences",
        **sending_rules_context(session),
        **extra,
    }
    return render(request, "settings.html", context, block=block, status_code=status_code)


@router.get("")
def settings_page(request: Request, session: SessionDep, settings: SettingsDep) -> HTMLResponse:
    return _page(request, session, settings)


@router.post("/preferences")
def save_preferences(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: CurrentUser,
    language: Annotated[str, Form(max_length=8)] = "",
    time_zone: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    try:
        preferences.set_user_preferences(session, user, language=language, time_zone=time_zone)
    except ServiceError as exc:
        return _page(request, session, settings, status_code=422, preferences_error=exc.message)
    # The whole page changes language: reload it rather than swap a part.
    request.session["lang"] = user.language or ""
    return RedirectResponse("/settings?saved=preferences#preferences", status_code=303)


@router.post("/workspace")
def save_workspace(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    contact_language: Annotated[str, Form(max_length=8)] = "",
) -> HTMLResponse:
    try:
        preferences.set_contact_language(session, contact_language)
    except ServiceError as exc:
        return _page(
            request,
            session,
            settings,
            block="workspace",
            status_code=422,
            workspace_error=exc.message,
        )
    notice = _("Saved. Contacts whose language is unknown now read this language.")
    return _page(request, session, settings, block="workspace", workspace_notice=notice)


def sending_rules_context(session: SessionDep) -> dict[str, object]:
    return {
        "rules_form": form_values(session),
        "weekday_names": weekday_names(),
        "priority_choices": priority_choices(),
    }


@router.post("/sending-rules")
async def save_sending_rules(
    request: Request, session: SessionDep, settings: SettingsDep
) -> HTMLResponse:
    form = await request.form()
    try:
        rules = rules_from_form(session, form)
    except FormProblems as exc:
        return _page(
            request,
            session,
            settings,
            block="sending_rules",
            status_code=422,
            rules_problems=exc.problems,
            rules_form=exc.values["form"],
        )
    write_rules(session, rules, request.app.state.clock.now())
    notice = _("Saved. Marketing messages follow these rules from their next send.")
    return _page(request, session, settings, block="sending_rules", rules_notice=notice)


@router.post("/password")
async def change_password(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: CurrentUser,
    current_password: Annotated[str, Form(max_length=1000)] = "",
    new_password: Annotated[str, Form(max_length=1000)] = "",
) -> HTMLResponse:
    # Guessing the current password from a stolen session is throttled like logging in.
    attempt = attempt_for(email=user.email, address=client_address(request), device=None)
    throttle = LoginThrottle(request.app.state.queue.redis)
    wait = await throttle.admit(attempt, now=request.app.state.clock.now().timestamp())
    if wait:
        error = _("Too many wrong passwords. Wait %(wait)s before trying again.") % {
            "wait": wait_words(wait)
        }
        response = _page(
            request, session, settings, block="account", status_code=429, account_error=error
        )
        response.headers["Retry-After"] = str(wait)
        return response
    try:
        await run_in_threadpool(
            users.change_password,
            session,
            user,
            current=current_password,
            new=new_password,
            keep_session=request.session.get("sid"),
        )
        await throttle.succeeded(attempt)
    except ServiceError as exc:
        return _page(
            request, session, settings, block="account", status_code=422, account_error=exc.message
        )
    notice = _(
        "Password changed. Every other browser logged into your account has been logged out."
    )
    return _page(request, session, settings, block="account", account_notice=notice)


@router.post("/api-keys")
def create_api_key(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: CurrentUser,
    name: Annotated[str, Form()] = "",
) -> HTMLResponse:
    try:
        key, plain = api_keys.create_api_key(session, name=name, created_by_id=user.id)
    except ServiceError as exc:
        return _page(
            request, session, settings, block="api_keys", status_code=422, key_error=exc.message
        )
    return _page(request, session, settings, block="api_keys", new_key=plain, new_key_name=key.name)


@router.post("/api-keys/{key_id}/revoke")
def revoke_api_key(
    request: Request, session: SessionDep, settings: SettingsDep, key_id: Int32
) -> HTMLResponse:
    api_keys.revoke_api_key(session, key_id)
    return _page(request, session, settings, block="api_keys")


@router.post("/users")
def create_user(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    email: Annotated[str, Form()] = "",
    name: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
) -> HTMLResponse:
    try:
        created = users.create_user(session, email=email, password=password, name=name)
    except ServiceError as exc:
        return _page(
            request,
            session,
            settings,
            block="users",
            status_code=422,
            user_error=exc.message,
            form={"email": email, "name": name},
        )
    return _page(
        request,
        session,
        settings,
        block="users",
        user_notice=_("%(email)s can now log in.") % {"email": created.email},
    )


@router.post("/users/{user_id}/{action}")
def toggle_user(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: CurrentUser,
    user_id: Int32,
    action: str,
) -> HTMLResponse:
    if action not in {"activate", "deactivate"}:
        return _page(request, session, settings, block="users", status_code=404)
    assert user.id is not None
    try:
        users.set_active(session, user_id, active=action == "activate", acting_user_id=user.id)
    except ServiceError as exc:
        return _page(
            request,
            session,
            settings,
            block="users",
            status_code=exc.status_code,
            user_error=exc.message,
        )
    return _page(request, session, settings, block="users")
