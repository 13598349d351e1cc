"""Live block counters over Server-Sent Events: ``GET /scenarios/{id}/live``.

One version's counters (``?version=N``, else the live version): a first snapshot on connect,
then a new one whenever the engine announces a committed chunk on the scenario's Redis
channel (of any version: the words about older versions still holding contacts move too) —
at most every ``LIVE_INTERVAL`` seconds, so a busy scenario costs one read per half second per
tab, and a chunk shows at most that long after its commit. A stream ends as soon as uvicorn
is asked to stop (it waits for open responses before it stops), and in any case after
``settings.live_stream_seconds``: the browser's EventSource reconnects at once (``retry``) and
gets a fresh snapshot.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
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
from app.services.scenarios.stats import find_version, still_active
from app.templating import templates

router = APIRouter(dependencies=[Depends(get_current_user)], include_in_schema=False)

LIVE_INTERVAL = 0.5
RECONNECT_MS = 500


@dataclass(frozen=True)
class Shown:
    graph: dict[str, Any]
    version: ScenarioVersion | None  # None while the scenario has no version
    unsent: list[not_sent.NotSent]
    still_on: list[insights.StillOn]


async def snapshot(
    request: Request, scenario_id: Int32, number: int | None = None
) -> dict[str, Any]:
    """One version's counters per block (with their HTML) and per link: version ``number``, or
    the live one — read again each time, so a publish moves an open canvas to the new one —
    and the older versions still holding contacts."""
    engine: Engine = request.app.state.engine
    redis: Redis = request.app.state.queue.redis

    def read_db() -> Shown:
        with Session(engine, expire_on_commit=False) as session:
            scenario = session.get(Scenario, scenario_id)
            if scenario is None:
                return Shown({}, None, [], [])
            shown = find_version(session, scenario, number)
            if shown is None:
                return Shown(scenario.draft, None, [], [])
            older = insights.still_on_older(
                still_active(session, scenario_id), scenario.live_version, shown.number
            )
            unsent = not_sent.by_block(session, scenario_id, version_id=shown.id)
            return Shown(shown.graph, shown, unsent, older)

    def read_log(version: ScenarioVersion) -> dict[str, dict[str, int]]:
        with Session(engine) as session:
            return insights.exact_counters(session, version)

    shown = await asyncio.to_thread(read_db)
    version = shown.version
    counts: dict[str, dict[str, int]] = {}
    if version is not None and version.id is not None:
        hot = await insights.hot_counters(redis, [version.id])
        # A version Redis knows nothing about (emptied, or no chunk yet) is read from the log.
        counts = (
            hot[version.id] if version.id in hot else await asyncio.to_thread(read_log, version)
        )
    counters = insights.live_counters(shown.graph, counts, shown.unsent)
    data = render_counters(
        scenario_id, counters, version=version.number if version is not None else None
    )
    macro = templates.env.get_template("_live_counters.html").module.still_on  # type: ignore[attr-defined]
    data["still_on"] = str(macro(scenario_id, shown.still_on))
    return data


def render_counters(
    scenario_id: int, counters: insights.LiveCounters, *, version: int | None = None
) -> dict[str, Any]:
    """``version``: the number of the version counted, whose contacts the links open."""
    macro = templates.env.get_template("_live_counters.html").module.counters  # type: ignore[attr-defined]
    return {
        "version": version,
        "nodes": {
            node_id: {
                "counts": c.model_dump(),
                "html": str(
                    macro(scenario_id, node_id, c, counters.not_sent.get(node_id, []), version)
                ),
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


async def _stream(request: Request, scenario_id: int, number: int | None) -> AsyncIterator[str]:
    redis: Redis = request.app.state.queue.redis
    lifetime: float = request.app.state.settings.live_stream_seconds
    pubsub = redis.pubsub()
    await pubsub.subscribe(insights.LIVE_CHANNEL.format(scenario_id=scenario_id))
    try:
        yield f"retry: {RECONNECT_MS}\n\n"
        yield _event(await snapshot(request, scenario_id, number))
        started = last = time.monotonic()
        pending, server = False, _serving_server()
        while (now := time.monotonic()) - started < lifetime and not _stopping(server):
            wait = max(0.0, LIVE_INTERVAL - (now - last)) if pending else 1.0
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=wait)
            pending = pending or message is not None
            if pending and time.monotonic() - last >= LIVE_INTERVAL:
                yield _event(await snapshot(request, scenario_id, number))
                last, pending = time.monotonic(), False
            elif message is None and not pending:
                yield ": still here\n\n"  # a comment: lets a gone client be noticed
    finally:
        with anyio.CancelScope(shield=True):
            await pubsub.unsubscribe()
            await pubsub.aclose()


@router.get("/scenarios/{scenario_id}/live")
async def live(
    scenario_id: Int32, request: Request, version: Int32 | None = None
) -> StreamingResponse:
    """``version``: the number of the version to show; the live one when left out."""
    engine: Engine = request.app.state.engine

    def check() -> None:
        with Session(engine) as session:
            scenario = session.get(Scenario, scenario_id)
            if scenario is None:
                raise NotFound(_("There is no scenario %(id)s.") % {"id": scenario_id})
            find_version(session, scenario, version)  # refuses a version it does not have

    await asyncio.to_thread(check)
    return StreamingResponse(
        _stream(request, scenario_id, version),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
