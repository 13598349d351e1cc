"""Live block counters over Server-Sent Events: ``GET /scenarios/{id}/live``.

A first snapshot on connect, then a new one whenever the engine announces a committed chunk
on the scenario's Redis channel — at most every ``LIVE_INTERVAL`` seconds, so a busy scenario
costs one read per half second per tab, and a chunk shows at most that long after its commit.
A stream ends as soon as uvicorn is asked to stop (it waits for open responses before it
stops), and in any case after ``settings.live_stream_seconds``: the browser's EventSource
reconnects at once (``retry``) and gets a fresh snapshot.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import anyio
from fastapi import APIRouter, Depends, Request
from fastapi.responses import StreamingResponse
from redis.asyncio import Redis
from sqlalchemy import Engine
from sqlmodel import Session

from app.deps import get_current_user
from app.i18n import _
from app.inputs import Int32
from app.models import Scenario, ScenarioVersion
from app.services.errors import NotFound
from app.services.insights import live_counters as insights
from app.services.messaging import not_sent
from app.templating import templates

router = APIRouter(dependencies=[Depends(get_current_user)], include_in_schema=False)

LIVE_INTERVAL = 0.5
RECONNECT_MS = 500


async def snapshot(request: Request, scenario_id: Int32) -> dict[str, Any]:
    """Counters per block (with their HTML) and per link, summed over the versions."""
    engine: Engine = request.app.state.engine
    redis: Redis = request.app.state.queue.redis

    def read_db() -> tuple[dict[str, Any], list[ScenarioVersion], list[not_sent.NotSent]]:
        with Session(engine, expire_on_commit=False) as session:
            scenario = session.get(Scenario, scenario_id)
            if scenario is None:
                return {}, [], []
            versions = insights.scenario_versions(session, scenario_id)
            live = next((v for v in versions if v.number == scenario.live_version), None)
            unsent = not_sent.by_block(session, scenario_id) if versions else []
            return (live.graph if live is not None else scenario.draft), versions, unsent

    def read_log(missing: list[ScenarioVersion]) -> dict[int, dict[str, dict[str, int]]]:
        with Session(engine) as session:
            return {v.id or 0: insights.exact_counters(session, v) for v in missing}

    graph, versions, unsent = await asyncio.to_thread(read_db)
    hot = await insights.hot_counters(redis, [v.id for v in versions if v.id])
    # A version Redis knows nothing about (emptied, or no chunk yet) is read from the log.
    missing = [v for v in versions if v.id not in hot]
    exact = await asyncio.to_thread(read_log, missing) if missing else {}
    per_version = [hot.get(v.id or 0) or exact.get(v.id or 0, {}) for v in versions]
    return render_counters(scenario_id, insights.live_counters(graph, per_version, unsent))


def render_counters(scenario_id: int, counters: insights.LiveCounters) -> dict[str, Any]:
    macro = templates.env.get_template("_live_counters.html").module.counters  # type: ignore[attr-defined]
    return {
        "nodes": {
            node_id: {
                "counts": c.model_dump(),
                "html": str(macro(scenario_id, node_id, c, counters.not_sent.get(node_id, []))),
            }
            for node_id, c in counters.nodes.items()
        },
        "edges": {
            key: {"count": e.count, "share": e.share, "label": e.label}
            for key, e in counters.edges.items()
        },
    }


def _serving_server() -> Any | None:
    """The uvicorn ``Server`` running this event loop, found from its root task, if any.

    uvicorn waits for open responses before it stops, and tells the app nothing: a stream
    watches the server's ``should_exit`` to end at once when it is asked to stop. Elsewhere
    (another server, tests without one) streams still end after their lifetime.
    """
    for task in asyncio.all_tasks():
        frame = getattr(task.get_coro(), "cr_frame", None)
        server = frame.f_locals.get("self") if frame is not None else None
        kind = type(server)
        if kind.__name__ == "Server" and kind.__module__.startswith("uvicorn"):
            return server
    return None


def _stopping(server: Any | None) -> bool:
    return bool(server is not None and (server.should_exit or getattr(server, "force_exit", 0)))


def _event(data: dict[str, Any]) -> str:
    return f"event: counters\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


async def _stream(request: Request, scenario_id: int) -> AsyncIterator[str]:
    redis: Redis = request.app.state.queue.redis
    lifetime: float = request.app.state.settings.live_stream_seconds
    pubsub = redis.pubsub()
    await pubsub.subscribe(insights.LIVE_CHANNEL.format(scenario_id=scenario_id))
    try:
        yield f"retry: {RECONNECT_MS}\n\n"
        yield _event(await snapshot(request, scenario_id))
        started = last = time.monotonic()
        pending, server = False, _serving_server()
        while (now := time.monotonic()) - started < lifetime and not _stopping(server):
            wait = max(0.0, LIVE_INTERVAL - (now - last)) if pending else 1.0
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=wait)
            pending = pending or message is not None
            if pending and time.monotonic() - last >= LIVE_INTERVAL:
                yield _event(await snapshot(request, scenario_id))
                last, pending = time.monotonic(), False
            elif message is None and not pending:
                yield ": still here\n\n"  # a comment: lets a gone client be noticed
    finally:
        with anyio.CancelScope(shield=True):
            await pubsub.unsubscribe()
            await pubsub.aclose()


@router.get("/scenarios/{scenario_id}/live")
async def live(scenario_id: Int32, request: Request) -> StreamingResponse:
    engine: Engine = request.app.state.engine

    def exists() -> bool:
        with Session(engine) as session:
            return session.get(Scenario, scenario_id) is not None

    if not await asyncio.to_thread(exists):
        raise NotFound(_("There is no scenario %(id)s.") % {"id": scenario_id})
    return StreamingResponse(
        _stream(request, scenario_id),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
