"""Gzipped bodies for the Segment intake, opened before anything else reads them.

RudderStack's libraries gzip every batch (``Content-Encoding: gzip``). This pure ASGI
middleware sits outside the request guard (``app/request_guard.py``), so the guard checks the
JSON itself (NUL characters, nesting, NaN) rather than compressed bytes. Decompression stops
at the call's limit: a small body that inflates past it (a zip bomb) is a 413 that never cost
more memory than the limit.
"""

from __future__ import annotations

import zlib

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.inputs import plain_digits
from app.request_guard import replay
from app.routes.segment.answers import refusal

PATHS = ("/segment/v1/", "/v1/")
OFF_LOOP_BYTES = 64_000


class Refused(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class GzipBodies:
    def __init__(self, app: ASGIApp, *, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not str(scope["path"]).startswith(PATHS):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        encoding = headers.get("content-encoding", "").strip().lower()
        if encoding in ("", "identity"):
            await self.app(scope, receive, send)
            return
        try:
            if encoding not in ("gzip", "x-gzip"):
                raise Refused(415, "unsupported_encoding", "Send the body as is or gzipped.")
            raw = await _read(receive, headers.get("content-length"), self.limit)
            if len(raw) > OFF_LOOP_BYTES:
                body = await run_in_threadpool(gunzip, raw, self.limit)
            else:
                body = gunzip(raw, self.limit)
        except Refused as refused:
            await refusal(refused.status, refused.code, refused.message)(scope, receive, send)
            return
        kept = [
            (k, v) for k, v in scope["headers"] if k not in (b"content-encoding", b"content-length")
        ]
        scope = {**scope, "headers": [*kept, (b"content-length", str(len(body)).encode())]}
        await self.app(
            scope, replay({"type": "http.request", "body": body, "more_body": False}, receive), send
        )


def too_large(limit: int) -> Refused:
    return Refused(
        413,
        "payload_too_large",
        f"The body is larger than {limit // 1024} KB once decompressed (Segment's limit per "
        "call); send fewer messages per batch.",
    )


async def _read(receive: Receive, declared: str | None, limit: int) -> bytes:
    if declared is not None and plain_digits(declared) and int(declared) > limit:
        raise too_large(limit)
    body = bytearray()
    while True:
        message: Message = await receive()
        if message["type"] != "http.request":
            return bytes(body)
        body += message.get("body", b"")
        if len(body) > limit:
            raise too_large(limit)
        if not message.get("more_body", False):
            return bytes(body)


def gunzip(raw: bytes, limit: int) -> bytes:
    """The decompressed body (every gzip member of it), never more than ``limit`` bytes."""
    out = bytearray()
    rest = raw
    try:
        while rest:
            stream = zlib.decompressobj(16 + zlib.MAX_WBITS)
            out += stream.decompress(rest, limit + 1 - len(out))
            if len(out) > limit or stream.unconsumed_tail:
                raise too_large(limit)
            if not stream.eof:
                raise Refused(400, "invalid_gzip", "The gzipped body is cut short.")
            rest = stream.unused_data
    except zlib.error:
        raise Refused(400, "invalid_gzip", "The body says gzip but is not gzip data.") from None
    return bytes(out)
