"""What every request must respect before any route sees it: a size cap and storable text.

A pure ASGI middleware, so it runs before FastAPI reads a body whole, for the API and the pages
alike:

- **Size.** A body past ``PARCOURS_MAX_BODY_BYTES`` (the event intake: its own
  ``PARCOURS_EVENTS_MAX_BODY_BYTES``) is refused with 413 as soon as that is known — from
  ``Content-Length`` or while it streams in. The CSV upload is left to its route, which has its
  own, larger cap and streams the file to disk.
- **Text.** PostgreSQL cannot store the NUL character in text or JSON, and no database can store
  half of a UTF-16 surrogate pair; either would fail deep in a write, as a 500. Such text is
  refused with 422 wherever it comes: path, query string, JSON (keys, values, nested) or form.
- **Numbers.** ``NaN`` and ``Infinity`` (which Python's JSON reader accepts) are refused with
  422: PostgreSQL's JSON cannot hold them.
- **Nesting.** JSON nested deeper than ``MAX_JSON_DEPTH`` is refused with 422: nothing Parcours
  takes is that deep, and recursive code further on should never meet it.

Refusals answer ``{"detail": …}`` to the API and to JSON requests, a short alert to pages.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote_plus

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.i18n import N_, _, format_number
from app.inputs import plain_digits
from app.templating import templates

MAX_JSON_DEPTH = 100
OFF_LOOP_BYTES = 100_000
EVENT_PATHS = ("/api/v1/events",)
UPLOAD_PATHS = frozenset({"/contacts/import"})

# Cheap byte-level hints that a body may hold unstorable text or numbers (Python's JSON reader
# takes NaN and Infinity, which PostgreSQL's JSON refuses); only then is it decoded fully.
_SUSPECT = re.compile(rb"\\u(?:0000|[dD][89a-fA-F][0-9a-fA-F]{2})|NaN|Infinity")
_NOT_STRUCTURE = bytes(set(range(256)) - set(b'[]{}"'))
_AS_PARENTHESES = bytes.maketrans(b"[{]}", b"(())")

NUL_MESSAGE = N_(
    "The text sent holds a NUL character (\\u0000), which Parcours cannot store. "
    "Remove it and send again."
)
SURROGATE_MESSAGE = N_(
    "The text sent holds a broken character (half of a UTF-16 pair), which Parcours cannot "
    "store. Check the encoding of what you send."
)
DEPTH_MESSAGE = N_("The JSON sent is nested more than %(depth)s levels deep.")


class Refused(Exception):
    """A refusal in the words of the request's speaker (English for the API)."""

    def __init__(self, status_code: int, message: str, **args: object) -> None:
        message = _(message) % args if args else _(message)
        super().__init__(message)
        self.status_code = status_code
        self.message = message


class RequestGuard:
    def __init__(self, app: ASGIApp, *, max_body_bytes: int, events_max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.events_max_body_bytes = events_max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        content_type = headers.get("content-type", "").lower()
        try:
            check_target(scope)
            if _streams_its_own_body(scope, content_type):
                await self.app(scope, receive, send)
                return
            limit = self._limit(scope["path"])
            message = await _read_capped(receive, headers.get("content-length"), limit)
            body = message.get("body", b"")
            if len(body) > OFF_LOOP_BYTES:  # a few ms per 100 kB: not on the event loop
                await run_in_threadpool(check_body, body, content_type)
            else:
                check_body(body, content_type)
        except Refused as refusal:
            await _refusal(scope, refusal)(scope, receive, send)
            return
        await self.app(scope, replay(message, receive), send)

    def _limit(self, path: str) -> int:
        if path.startswith(EVENT_PATHS):
            return self.events_max_body_bytes
        return self.max_body_bytes


def _streams_its_own_body(scope: Scope, content_type: str) -> bool:
    return content_type.startswith("multipart/form-data") and scope["path"] in UPLOAD_PATHS


async def _read_capped(receive: Receive, declared: str | None, limit: int) -> Message:
    """The whole request as one ``http.request`` message, or 413 past ``limit`` bytes."""

    def too_large() -> Refused:  # worded only when said: formatting costs on every request
        return Refused(
            413,
            N_("The request is larger than %(limit)s bytes. Send less data at a time."),
            limit=format_number(limit),
        )

    if declared is not None and plain_digits(declared) and int(declared) > limit:
        raise too_large()
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return message  # the client left; the app sees the disconnect
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise too_large()
        chunks.append(chunk)
        if not message.get("more_body", False):
            return {"type": "http.request", "body": b"".join(chunks), "more_body": False}


def replay(first: Message, receive: Receive) -> Receive:
    """``receive`` that hands over ``first`` (a body already read whole) before the rest."""
    sent = False

    async def receive_first() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return first
        return await receive()

    return receive_first


def check_target(scope: Scope) -> None:
    if "\x00" in scope["path"]:
        raise Refused(422, NUL_MESSAGE)
    query = scope.get("query_string", b"")
    if (b"%00" in query or b"\x00" in query) and "\x00" in unquote_plus(query.decode("latin-1")):
        raise Refused(422, NUL_MESSAGE)


def check_body(body: bytes, content_type: str) -> None:
    if not body:
        return
    # Raw in JSON and multipart fields alike (every Form() route takes multipart too; the one
    # route that takes files streams its own body and never comes here).
    if b"\x00" in body:
        raise Refused(422, NUL_MESSAGE)
    if content_type.startswith("multipart/form-data"):
        return
    if content_type.startswith("application/x-www-form-urlencoded"):
        if b"%00" in body and "\x00" in unquote_plus(body.decode("latin-1")):
            raise Refused(422, NUL_MESSAGE)
        return
    if body.count(b"[") + body.count(b"{") > MAX_JSON_DEPTH and _too_deep(body):
        raise Refused(422, DEPTH_MESSAGE, depth=MAX_JSON_DEPTH)
    if (b"\\u" in body or b"NaN" in body or b"Infinity" in body) and _SUSPECT.search(body):
        try:
            document = json.loads(body, parse_constant=_not_a_number)
        except ValueError:
            return  # not JSON: the route answers that in its own words
        for text in _strings(document):
            if "\x00" in text:
                raise Refused(422, NUL_MESSAGE)
            if not text.isascii() and not _encodes(text):
                raise Refused(422, SURROGATE_MESSAGE)


def _not_a_number(constant: str) -> float:
    raise Refused(
        422,
        N_("%(constant)s is not a number Parcours can store; send a finite number."),
        constant=constant,
    )


def _too_deep(body: bytes) -> bool:
    """Whether the brackets of a JSON text (not those inside strings) nest past the limit.

    Kept to C-speed passes over the bytes, as it runs on every event batch: escapes that could
    hide a quote are dropped, only quotes and brackets kept, the strings cut out between quote
    pairs, and innermost bracket pairs removed round after round; pairs still there after
    ``MAX_JSON_DEPTH`` rounds mean deeper nesting.
    """
    unescaped = body.replace(b"\\\\", b"").replace(b'\\"', b"")
    skeleton = unescaped.translate(None, _NOT_STRUCTURE)
    brackets = b"".join(skeleton.split(b'"')[::2]).translate(_AS_PARENTHESES)
    too_many_opened = b"(" * (MAX_JSON_DEPTH + 1)
    for _round in range(MAX_JSON_DEPTH):
        if too_many_opened in brackets:
            return True  # how deep nesting usually looks once its inner pairs are gone
        shorter = brackets.replace(b"()", b"")
        if shorter == brackets:
            return False  # all pairs gone (or unbalanced: the JSON reader says so)
        brackets = shorter
    return b"()" in brackets


def _strings(document: Any) -> Iterator[str]:
    # Iterative: the depth is already bounded, but a walk should never depend on that.
    stack = [document]
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            yield node
        elif isinstance(node, dict):
            yield from node.keys()
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


def _encodes(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _refusal(scope: Scope, refusal: Refused) -> Response:
    headers = Headers(scope=scope)
    wants_json = scope["path"].startswith("/api/") or "json" in headers.get("content-type", "")
    if wants_json:
        return JSONResponse({"detail": refusal.message}, status_code=refusal.status_code)
    alert = templates.env.get_template("_error_alert.html").render(detail=refusal.message)
    return HTMLResponse(alert, status_code=refusal.status_code)
