"""The app under benchmark, plus a no-op endpoint on the same stack (middleware, CSRF check,
session cookie handling) that reads the body and answers 202 without auth or database: the
baseline bench/ingest.py compares event ingestion with. It is matched first, like the event
intake's routes (app.main includes them before all others), so that both pay the same routing."""

from __future__ import annotations

from fastapi import FastAPI, Request, Response

from app.main import create_app


def bench_app() -> FastAPI:
    app = create_app()

    @app.post("/api/bench-noop", include_in_schema=False)
    async def noop(request: Request) -> Response:
        await request.body()
        return Response(b'{"status":"accepted"}', status_code=202, media_type="application/json")

    noop_route = app.router.routes.pop()
    app.router.routes.insert(0, noop_route)
    return app
