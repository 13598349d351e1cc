"""FastAPI dependencies, as ``Annotated`` aliases routes can declare."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

from fastapi import Depends, FastAPI, Header, HTTPException, Request, status
from sqlalchemy import Engine
from sqlmodel import Session

from app.config import Settings
from app.db import read_only
from app.i18n import _
from app.i18n.speaker import adopt
from app.models import ApiKey, User
from app.security import tokens_match
from app.services.account.api_keys import find_active_key
from app.services.account.sessions import session_user

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
# Paths whose callers have no session cookie to protect (bearer keys, public links, the
# signup forms of /f/, posted from other sites: a honeypot and rate limits guard them; the
# Segment intake of /segment/v1/ and /v1/, called by servers with an API key).
CSRF_EXEMPT_PREFIXES = (
    "/api/",
    "/health",
    "/static/",
    "/t/",
    "/u/",
    "/f/",
    "/segment/v1/",
    "/v1/",
    "/hooks/",  # mail providers' webhooks: their signature is the proof (routes/esp_hooks.py)
)


def get_settings_from_app(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


def get_session(request: Request) -> Iterator[Session]:
    """One unit of work per request, committed when the endpoint returns without error."""
    engine = get_engine(request)
    if request.method in SAFE_METHODS:
        engine = read_only(engine)
    with Session(engine, expire_on_commit=False) as session:
        yield session
        session.commit()


@contextmanager
def session_for(app: FastAPI) -> Iterator[Session]:
    """A session for work done outside a request's dependencies (the event writer's group
    commits, a remembered key's lookup), opened as ``get_session`` is — its override
    included, so that tests share one rolled-back session with such work too."""
    opener = app.dependency_overrides.get(get_session)
    if opener is None:
        with Session(app.state.engine, expire_on_commit=False) as session:
            yield session
        return
    given = opener()
    try:
        yield next(given)
    finally:
        given.close()


SettingsDep = Annotated[Settings, Depends(get_settings_from_app)]
SessionDep = Annotated[Session, Depends(get_session, scope="function")]


class LoginRequired(Exception):
    """Raised for a page that needs a logged-in user; answered with a redirect to /login."""


def get_current_user(request: Request, session: SessionDep, settings: SettingsDep) -> User:
    user = session_user(
        session,
        request.session.get("sid"),
        now=request.app.state.clock.now(),
        max_age=settings.session_max_age_seconds,
    )
    if user is None:
        request.session.clear()
        raise LoginRequired()
    request.state.user = user
    adopt(user.language, user.time_zone or settings.time_zone)
    if user.language and request.session.get("lang") != user.language:
        request.session["lang"] = user.language
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


def get_api_key(
    session: SessionDep,
    authorization: Annotated[str | None, Header()] = None,
) -> ApiKey:
    scheme, _, token = (authorization or "").partition(" ")
    key = find_active_key(session, token.strip()) if scheme.lower() == "bearer" else None
    if key is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail="Missing or invalid API key. Send it as 'Authorization: Bearer <key>'.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return key


ApiKeyDep = Annotated[ApiKey, Depends(get_api_key)]


async def csrf_protect(request: Request) -> None:
    """Every state-changing request from a browser must echo the session's CSRF token.

    htmx sends it as a header (set once on <body>); plain forms as a hidden field.
    """
    if request.method in SAFE_METHODS or request.scope["path"].startswith(CSRF_EXEMPT_PREFIXES):
        return
    expected = request.session.get("csrf")
    given = request.headers.get(CSRF_HEADER)
    if given is None:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            value = form.get(CSRF_FIELD)
            given = value if isinstance(value, str) else None
    if not tokens_match(expected, given):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            detail=_(
                "This form has expired or did not come from Parcours. "
                "Reload the page and try again."
            ),
        )
