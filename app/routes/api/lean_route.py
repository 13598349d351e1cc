"""An API route for the event intake's hot path, with none of FastAPI's parameter work.

FastAPI solves every request's dependencies generically: it parses the query string and the
cookies, validates parameters and builds caches, even when the endpoint and its dependencies
take nothing but the request. On a single tracked event that cost more than checking the key,
parsing the event and storing it (profiled). A ``LeanRoute`` takes only such an endpoint, whose
dependencies (the app's and its own, FastAPI's ``Depends``) also take only the request, and
calls them in order itself; FastAPI still documents it (OpenAPI) as any route. Dependencies
that need more are refused when the route is declared, so nothing is ever skipped silently.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute

Call = Callable[[Request], Any]


class LeanRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        endpoint = _request_only(self.endpoint, self.path)
        own = [_request_only(d.call, self.path) for d in self.dependant.dependencies]
        apps: list[Call] | None = None  # the app's own dependencies (the CSRF check), once known

        async def handler(request: Request) -> Response:
            nonlocal apps
            if apps is None:
                apps = [
                    _request_only(d.dependency, self.path) for d in request.app.router.dependencies
                ]
            for call in (*apps, *own):
                await _call(call, request)
            response: Response = await endpoint(request)
            return response

        return handler


async def _call(call: Call, request: Request) -> None:
    result = call(request)
    if inspect.isawaitable(result):
        await result


def _request_only(call: Callable[..., Any] | None, path: str) -> Call:
    parameters = [] if call is None else list(inspect.signature(call).parameters.values())
    if call is None or len(parameters) != 1 or parameters[0].annotation not in (Request, "Request"):
        raise TypeError(f"{path}: a LeanRoute's endpoint and dependencies take only the request")
    return call
