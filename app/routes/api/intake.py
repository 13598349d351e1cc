"""What every intake endpoint shares: per-key rate limiting, capped bodies, waking the engine.

Rate limiting counts requests per API key in fixed windows in Redis, so several web processes
share one budget (``PARCOURS_API_RATE_LIMIT`` per ``PARCOURS_API_RATE_LIMIT_WINDOW_SECONDS``;
0 turns it off). If Redis does not answer, requests go through: losing intake would be worse.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import math
import time
from typing import Annotated, Any

from fastapi import FastAPI, Header, HTTPException, Request, status
from pydantic import BaseModel
from sqlalchemy import Engine
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from app.db import READ_ONLY
from app.deps import ApiKeyDep, session_for
from app.inputs import plain_digits
from app.routes.api.key_budget import REDIS_WAIT_SECONDS, KeyBudgets
from app.services.account.api_keys import find_active_key
from app.services.contacts.event_groups import GroupWriter

log = logging.getLogger("parcours.intake")
ENGINE_TASK = "match_triggers"
KEY_CACHE_SECONDS = 5.0
KICK_SPACING_SECONDS = 0.05
KEY_CACHE_SIZE = 1_000


async def over_budget(request: Request, bucket: str, limit: int, window: int) -> int | None:
    """Counts this request in ``bucket``; past ``limit`` in the window, the seconds to wait."""
    if limit <= 0:
        return None
    now = request.app.state.clock.now().timestamp()
    slot = int(now // window)
    key = f"parcours:rate:{bucket}:{slot}"
    try:
        pipe = request.app.state.queue.redis.pipeline(transaction=False)
        pipe.incr(key)
        pipe.expire(key, window * 2)
        count, _ = await asyncio.wait_for(pipe.execute(), REDIS_WAIT_SECONDS)
    except Exception:  # Redis down or not answering: keep taking data rather than refuse it
        log.warning("rate limiter unavailable; letting the request through", exc_info=True)
        return None
    if int(count) <= limit:
        return None
    return max(1, math.ceil((slot + 1) * window - now))


def client_address(request: Request) -> str:
    """The caller's address, for per-address budgets.

    It is the TCP peer as uvicorn reports it: uvicorn replaces it with X-Forwarded-For only
    when the peer is a trusted proxy (``FORWARDED_ALLOW_IPS``, 127.0.0.1 by default), so a
    header sent by the client itself changes nothing. IPv6 callers are counted by /64, the
    block one subscriber usually holds, else each of their addresses would get a budget.
    """
    host = request.client.host if request.client else ""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host or "unknown"
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network((address, 64), strict=False))
    return str(address)


async def check_rate(request: Request, bucket: str) -> None:
    """Counts the request against the API key's budget (``key_budget``); 429 past it."""
    settings = request.app.state.settings
    limit, window = settings.api_rate_limit, settings.api_rate_limit_window_seconds
    state = request.app.state
    budgets = getattr(state, "key_budgets", None)
    if budgets is None:
        budgets = state.key_budgets = KeyBudgets(state.queue.redis)
    retry_after = await budgets.over(bucket, limit, window, state.clock.now().timestamp())
    if retry_after is not None:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            detail=(
                f"Too many requests for this API key: at most {limit} every {window} seconds. "
                f"Try again in {retry_after} s, or send events in batches (POST /events/batch)."
            ),
            headers={"Retry-After": str(retry_after)},
        )


async def rate_limit(request: Request, key: ApiKeyDep) -> None:
    """Dependency for API routers: one budget per API key."""
    await check_rate(request, f"key:{key.id}")


async def intake_key(
    request: Request, authorization: Annotated[str | None, Header()] = None
) -> int:
    """The id of the caller's API key, for the intake endpoints (their hot path).

    Unlike the shared ``get_api_key`` it never holds SQLite's write lock: the lookup runs in a
    deferred (read) transaction that ends at once, and a known key is remembered for
    ``KEY_CACHE_SECONDS`` (so a revoked key stops working within that time here); a remembered
    key costs no database session and no thread."""
    token = _bearer(authorization)
    key_id = _remembered(request, token)
    if key_id is not None:
        return key_id

    def look_up() -> int:
        with session_for(request.app) as session:
            return _look_up(request, session, token)

    return await run_in_threadpool(look_up)


def _bearer(authorization: str | None) -> str:
    scheme, _, token = (authorization or "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise _unauthorized()
    return token


def _remembered(request: Request, token: str) -> int | None:
    # By the token itself, which the process holds anyway while it serves the request: hashing
    # it on every request cost more than the cache saves.
    cache: dict[str, tuple[float, int]] = request.app.state.__dict__.setdefault("key_cache", {})
    hit = cache.get(token)
    return hit[1] if hit is not None and hit[0] > time.monotonic() else None


def _look_up(request: Request, session: Session, token: str) -> int:
    if isinstance(session.get_bind(), Engine) and not session.in_transaction():
        session.connection(execution_options={READ_ONLY: True})
    key = find_active_key(session, token)
    session.commit()
    if key is None or key.id is None:
        raise _unauthorized()
    cache: dict[str, tuple[float, int]] = request.app.state.__dict__.setdefault("key_cache", {})
    if len(cache) > KEY_CACHE_SIZE:  # wrong keys are not remembered, but be safe
        cache.clear()
    cache[token] = (time.monotonic() + KEY_CACHE_SECONDS, key.id)
    return key.id


def _unauthorized() -> HTTPException:
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED,
        detail="Missing or invalid API key. Send it as 'Authorization: Bearer <key>'.",
        headers={"WWW-Authenticate": "Bearer"},
    )


async def ingest_rate_limit(request: Request) -> None:
    """The event endpoints' key and budget. It reads the header itself, with no parameters
    for FastAPI to extract and validate: on the hot path that work cost more than the check."""
    key_id = await intake_key(request, request.headers.get("authorization"))
    await check_rate(request, f"key:{key_id}")


def event_writer(app: FastAPI) -> GroupWriter:
    """The process's event writer (group commit), waking the engine after each commit."""
    writer: GroupWriter | None = getattr(app.state, "event_writer", None)
    if writer is None:
        writer = app.state.event_writer = GroupWriter(
            lambda: session_for(app), after_commit=lambda: wake_engine(app)
        )
    return writer


async def read_body(request: Request, limit: int) -> bytes:
    """The raw body, refused with 413 as soon as it is known to exceed ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and plain_digits(declared) and int(declared) > limit:
        raise _too_large(limit)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise _too_large(limit)
    return bytes(body)


def _too_large(limit: int) -> HTTPException:
    return HTTPException(
        status.HTTP_413_CONTENT_TOO_LARGE,
        detail=f"The body is larger than {limit:,} bytes; send fewer events per request.",
    )


class EngineWaker:
    """Kicks ``match_triggers`` after commits, at most one kick in flight per process.

    A kick requested while one is in flight is folded into one more kick afterwards, so every
    commit is followed by a kick that starts after it, without a Redis round trip per event.
    That next kick waits ``KICK_SPACING_SECONDS`` first: under a steady stream of commits the
    kicks would otherwise follow each other back to back (an arq enqueue is several round
    trips), costing the intake more than its writes, for an engine that reads every event
    waiting at each run anyway. A lone commit is kicked at once.
    """

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.running = False
        self.again = False

    async def wake(self) -> None:
        if self.running:
            self.again = True
            return
        self.running = True
        try:
            while True:
                self.again = False
                try:
                    await self.app.state.queue.kick(ENGINE_TASK)
                except Exception:  # the periodic sweep finds the events anyway
                    log.warning("could not wake the engine", exc_info=True)
                    return
                if not self.again:
                    return
                await asyncio.sleep(KICK_SPACING_SECONDS)
        finally:
            self.running = False


async def wake_engine(app: FastAPI) -> None:
    waker = getattr(app.state, "engine_waker", None)
    if waker is None:
        waker = EngineWaker(app)
        app.state.engine_waker = waker
    await waker.wake()


def inline_schema(model: type[BaseModel]) -> dict[str, Any]:
    """A model's JSON schema with its ``$defs`` inlined, for hand-parsed request bodies."""
    schema = model.model_json_schema()
    defs = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return resolve(defs[ref.removeprefix("#/$defs/")])
            return {k: resolve(v) for k, v in node.items()}
        if isinstance(node, list):
            return [resolve(item) for item in node]
        return node

    resolved: dict[str, Any] = resolve(schema)
    return resolved


def json_body(model: type[BaseModel]) -> dict[str, Any]:
    """``openapi_extra`` documenting a JSON body that the endpoint reads itself."""
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": inline_schema(model)}},
        }
    }
