"""The API reference (/docs): Swagger UI served from this server, so it works offline.

FastAPI's own page loads Swagger UI from a CDN and starts it with an inline script; this one
loads the vendored copy (app/static/vendor, pinned in VENDOR.md) and starts it from
static/js/api-docs.js, so the page runs under the same ``script-src 'self'`` as every other.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from app.templating import render

SWAGGER_UI_VERSION = "5.35.0"
SWAGGER_JS = f"vendor/swagger-ui-bundle-{SWAGGER_UI_VERSION}.js"
SWAGGER_CSS = f"vendor/swagger-ui-{SWAGGER_UI_VERSION}.css"

router = APIRouter(include_in_schema=False)


@router.get("/docs")
def api_reference(request: Request) -> HTMLResponse:
    return render(
        request,
        "api_docs.html",
        {
            "openapi_url": request.app.openapi_url,
            "swagger_js": SWAGGER_JS,
            "swagger_css": SWAGGER_CSS,
        },
    )
