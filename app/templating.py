"""Jinja2 rendering. One template serves the full page and, for htmx, a single block of it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from app.i18n import jinja as i18n_jinja
from app.icons import icon
from app.routes.condition_builder import builder_tree
from app.security import new_csrf_token

TEMPLATES_DIR = Path(__file__).parent / "templates"
templates = Jinja2Templates(directory=TEMPLATES_DIR)
templates.env.add_extension("jinja2.ext.i18n")
templates.env.globals["icon"] = icon
# A panel with several condition builders (the switch's cases) draws each from its condition.
templates.env.globals["condition_tree"] = builder_tree
i18n_jinja.install(templates.env)


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not isinstance(token, str):
        token = new_csrf_token()
        request.session["csrf"] = token
    return token


def is_htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


def render(
    request: Request,
    name: str,
    context: dict[str, Any] | None = None,
    *,
    block: str | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """Render ``name``; with ``block`` and an htmx request, only that block of it."""
    ctx: dict[str, Any] = {
        "request": request,
        "csrf_token": csrf_token(request),
        "current_user": getattr(request.state, "user", None),
        "nav": request.url.path.strip("/").split("/")[0],
        **(context or {}),
    }
    if block is not None and is_htmx(request):
        template = templates.env.get_template(name)
        html = "".join(template.blocks[block](template.new_context(ctx)))
        return HTMLResponse(html, status_code=status_code, headers=headers)
    return templates.TemplateResponse(request, name, ctx, status_code=status_code, headers=headers)
