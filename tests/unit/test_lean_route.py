"""A lean route runs the app's and its own dependencies itself, and refuses any it cannot."""

from __future__ import annotations

import pytest
from fastapi import APIRouter, Depends, FastAPI, Header, HTTPException, Request, Response
from fastapi.testclient import TestClient

from app.routes.api.lean_route import LeanRoute

calls: list[str] = []


async def app_check(request: Request) -> None:
    calls.append("app")
    if request.headers.get("x-refuse"):
        raise HTTPException(403, "refused by the app's dependency")


def own_check(request: Request) -> None:  # a plain function is called as well
    calls.append("own")


async def endpoint(request: Request) -> Response:
    calls.append("endpoint")
    return Response(b"{}", 202, media_type="application/json")


def lean_app() -> FastAPI:
    app = FastAPI(dependencies=[Depends(app_check)])
    router = APIRouter(route_class=LeanRoute)
    router.add_api_route("/lean", endpoint, methods=["POST"], dependencies=[Depends(own_check)])
    app.include_router(router)
    return app


def test_the_apps_dependencies_then_the_routes_then_the_endpoint_run_in_order() -> None:
    calls.clear()
    with TestClient(lean_app()) as client:
        assert client.post("/lean").status_code == 202
        assert calls == ["app", "own", "endpoint"]

        calls.clear()
        refused = client.post("/lean", headers={"x-refuse": "1"})

    assert refused.status_code == 403
    assert refused.json() == {"detail": "refused by the app's dependency"}
    assert calls == ["app"]


def test_it_is_documented_like_any_route() -> None:
    assert "/lean" in lean_app().openapi()["paths"]


def test_a_dependency_that_needs_more_than_the_request_is_refused_when_declared() -> None:
    def needs_a_header(x_token: str = Header()) -> None: ...

    router = APIRouter(route_class=LeanRoute)
    with pytest.raises(TypeError, match="take only the request"):
        router.add_api_route(
            "/lean", endpoint, methods=["POST"], dependencies=[Depends(needs_a_header)]
        )
