"""Answers in the shape Segment's and RudderStack's libraries read: ``{"success": true}``, or
``{"success": false, "code", "message", "errors"?}`` (they log ``code`` and ``message``)."""

from __future__ import annotations

from collections.abc import Sequence

from starlette.responses import JSONResponse

from app.services.contacts.events import ItemError

SUCCESS = {"success": True}


def refusal(
    status: int,
    code: str,
    message: str,
    errors: Sequence[ItemError] = (),
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, object] = {"success": False, "code": code, "message": message}
    if errors:
        body["errors"] = [error.as_json() for error in errors]
    return JSONResponse(body, status_code=status, headers=headers)
