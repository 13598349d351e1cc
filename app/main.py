"""The web application: ``uvicorn --factory app.main:create_app``."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from http import HTTPStatus
from pathlib import Path
from urllib.parse import quote

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp

from app.clock import SystemClock
from app.config import Settings, get_settings
from app.db import create_db_engine, is_database_locked
from app.deps import LoginRequired, csrf_protect
from app.i18n import _
from app.i18n.middleware import LocaleMiddleware
from app.queue import Queue
from app.redis import EmbeddedRedis
from app.request_guard import RequestGuard
from app.routes import (
    api,
    api_docs,
    auth,
    canvas_block_pages,
    canvas_creates,
    contact_forms,
    contact_pages,
    email_status_pages,
    enroll_pages,
    esp_hooks,
    form_pages,
    forms_public,
    health,
    import_pages,
    insight_pages,
    key_pages,
    list_members,
    list_pages,
    live,
    message_pages,
    pages,
    public,
    publish_pages,
    scenario_manage_pages,
    scenario_pages,
    settings_pages,
    simulation_pages,
    topic_pages,
    tracking_public,
    version_pages,
)
from app.routes.api import events as event_api
from app.routes.segment import MAX_CALL_BYTES
from app.routes.segment import router as segment_router
from app.routes.segment.gzip_body import GzipBodies
from app.security_headers import SecurityHeaders
from app.services.errors import ServiceError
from app.templating import is_htmx, render

log = logging.getLogger("parcours")
BUSY_RETRY = {"Retry-After": "2"}
STATIC_DIR = Path(__file__).parent / "static"


class ParcoursApp(FastAPI):
    def build_middleware_stack(self) -> ASGIApp:
        # Around Starlette's own error middleware, not inside it (as add_middleware would put
        # it): the last-resort 500 page is sent from there and must carry the headers too.
        settings: Settings = self.state.settings
        return SecurityHeaders(super().build_middleware_stack(), https=settings.serves_https)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        embedded: EmbeddedRedis | None = None
        redis_url = settings.redis_url
        if not redis_url:
            embedded = EmbeddedRedis(settings.data_dir)
            redis_url = embedded.start()
            log.info("started embedded Redis at %s", redis_url)
        app.state.redis_url = redis_url
        app.state.queue = await Queue.connect(redis_url)
        try:
            yield
        finally:
            await app.state.queue.close()
            app.state.engine.dispose()
            if embedded is not None:
                embedded.stop()

    app = ParcoursApp(
        title="Parcours",
        version="1.0",
        summary="Marketing-automation scenarios: contacts, events, lists, messages.",
        lifespan=lifespan,
        dependencies=[Depends(csrf_protect)],
        # /docs is our own page (routes/api_docs.py): Swagger UI served from here, not a CDN.
        docs_url=None,
        redoc_url=None,
        # No OpenTelemetry: else FastAPI asks, on every request, whether a provider was set up
        # since — a tenth of the event intake's time on one CPU.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.settings = settings
    app.state.engine = create_db_engine(settings.database_url)
    app.state.clock = SystemClock()

    app.add_middleware(
        RequestGuard,
        max_body_bytes=settings.max_body_bytes,
        events_max_body_bytes=settings.events_max_body_bytes,
    )
    # Outside the guard, so that it checks the JSON of a gzipped Segment batch, not its bytes.
    app.add_middleware(GzipBodies, limit=MAX_CALL_BYTES)
    app.add_middleware(LocaleMiddleware, time_zone=settings.time_zone)
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.resolved_secret_key(),
        session_cookie="parcours_session",
        max_age=settings.session_max_age_seconds,
        same_site="lax",
        https_only=settings.base_url.startswith("https://"),
    )
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.include_router(health.router)
    app.include_router(api_docs.router)
    # The event intake first: it is the hot path, and routes are matched in order.
    app.include_router(event_api.router)  # /api/v1/events*: its own auth (see the module)
    app.include_router(segment_router)  # /segment/v1/* and /v1/*: the same own auth
    app.include_router(auth.router)
    app.include_router(pages.router)
    app.include_router(canvas_creates.router)  # /scenarios/blocks/new-list
    app.include_router(scenario_pages.router)
    app.include_router(canvas_block_pages.router)
    app.include_router(scenario_manage_pages.router)
    app.include_router(version_pages.router)  # History: versions, read-only canvas, restore
    app.include_router(settings_pages.router)
    app.include_router(topic_pages.router)  # Settings → Topics, a contact's topics
    app.include_router(message_pages.router)
    app.include_router(public.router)
    app.include_router(import_pages.router)
    app.include_router(contact_forms.router)  # before contact_pages: /contacts/new is no id
    app.include_router(contact_pages.router)
    app.include_router(email_status_pages.router)  # a contact's bounced address reset
    app.include_router(list_pages.router)
    app.include_router(key_pages.router)
    app.include_router(list_members.router)
    app.include_router(tracking_public.router)
    app.include_router(esp_hooks.router)  # /hooks/: mail providers, signed, no login
    app.include_router(forms_public.router)  # /f/: the hosted signup forms, no login
    app.include_router(form_pages.router)  # /forms: the form builder
    app.include_router(insight_pages.router)
    app.include_router(enroll_pages.router)  # /enroll: by hand, from the canvas, contact, list
    app.include_router(live.router)
    app.include_router(simulation_pages.router)  # the canvas's Simulate
    app.include_router(publish_pages.router)  # the canvas's publish plan
    app.include_router(api.router)
    _add_error_handlers(app)
    return app


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith(("/api/", "/segment/v1/", "/v1/"))


def _error_page(request: Request, status: int, detail: object) -> Response:
    # htmx 4 swaps error responses into the target: give it a short alert, not a whole page.
    name = "_error_alert.html" if is_htmx(request) else "error.html"
    return render(request, name, {"status": status, "detail": detail}, status_code=status)


def _page_detail(status: int, detail: object) -> object:
    """Starlette's default detail is the status's English name ("Method Not Allowed"): the
    page says its own words instead (error.html)."""
    try:
        return None if detail == HTTPStatus(status).phrase else detail
    except ValueError:
        return detail


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, _exc: LoginRequired) -> Response:
        target = "/login?next=" + quote(request.url.path)
        if is_htmx(request):
            return Response(status_code=204, headers={"HX-Redirect": target})
        return RedirectResponse(target, status_code=303)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if _wants_json(request):
            return JSONResponse(
                {"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers
            )
        return _error_page(request, exc.status_code, _page_detail(exc.status_code, exc.detail))

    @app.exception_handler(ServiceError)
    async def service_error(request: Request, exc: ServiceError) -> Response:
        if _wants_json(request):
            return JSONResponse({"detail": exc.detail()}, status_code=exc.status_code)
        return _error_page(request, exc.status_code, exc.message)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        errors = [
            {"loc": list(err.get("loc", ())), "msg": err.get("msg", ""), "type": err.get("type")}
            for err in exc.errors()
        ]
        if _wants_json(request):
            return JSONResponse({"detail": errors}, status_code=422)
        detail = "; ".join(f"{'.'.join(map(str, e['loc'][1:]))}: {e['msg']}" for e in errors)
        return _error_page(request, 422, detail)

    @app.exception_handler(OperationalError)
    async def database_busy(request: Request, exc: OperationalError) -> Response:
        if not is_database_locked(exc):
            return await crash(request, exc)
        # Nothing was written (the transaction never began or was rolled back): try later.
        log.warning("database busy on %s %s", request.method, request.url.path)
        detail = _("Parcours is very busy right now and nothing was saved. Try again in a moment.")
        if _wants_json(request):
            return JSONResponse({"detail": detail}, status_code=503, headers=BUSY_RETRY)
        response = _error_page(request, 503, detail)
        response.headers.update(BUSY_RETRY)
        return response

    @app.exception_handler(Exception)
    async def crash(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        if _wants_json(request):
            return JSONResponse({"detail": "Internal error; it has been logged."}, status_code=500)
        return _error_page(request, 500, _("Something went wrong on our side. It has been logged."))
