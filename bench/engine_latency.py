"""Event → first action latency and timer lateness, with a real worker process.

Events are written the way the API writes them (a row, then a kick of the trigger matcher) at
100 events/s; the first action's step time minus the event's arrival time is the latency.
Contacts parked on a 3-second wait measure how late timers fire.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

from sqlalchemy import insert, text

from app.db import create_db_engine, session_scope
from app.migrate import upgrade
from app.models import Contact, ContactList, Event
from app.services.scenarios import scenarios
from worker.queue import Queue

RATE = 100  # events per second
SECONDS = 10
WAIT_SECONDS = 3


def _graph(event: str, steps: list[dict[str, Any]]) -> dict[str, Any]:
    nodes = [{"id": "start", "type": "trigger", "kind": "event", "config": {"event": event}}]
    nodes += steps
    edges = [{"from": a["id"], "to": b["id"]} for a, b in pairwise(nodes)]
    return {"schema": 1, "nodes": nodes, "edges": edges, "settings": {"reentry": "always"}}


def _percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] if len(values) > 1 else values[0]


async def _feed(url: str, redis_url: str, contact_ids: list[int], name: str) -> None:
    engine = create_db_engine(url)
    queue = await Queue.connect(redis_url)
    interval, start = 1 / RATE, time.perf_counter()
    for number, contact_id in enumerate(contact_ids):
        delay = start + number * interval - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        now = datetime.now(UTC)
        with session_scope(engine) as session:
            session.execute(
                insert(Event),
                [{"uid": uuid.uuid4().hex, "contact_id": contact_id, "name": name,
                  "properties": {}, "occurred_at": now, "received_at": now}],
            )  # fmt: skip
        await queue.kick("match_triggers")
    await queue.close()
    engine.dispose()


def latency_and_lateness(redis_url: str) -> None:
    folder = Path(tempfile.mkdtemp())
    url = f"sqlite:///{folder}/latency.db"
    upgrade(url)
    engine = create_db_engine(url)
    now = datetime.now(UTC)
    with session_scope(engine) as session:
        session.add(ContactList(key="signed-up", name="Signed up"))
        session.flush()
        for name, graph in (
            ("signup", _graph("signup", [{"id": "tag", "type": "action", "kind": "add_to_list",
                                          "config": {"list": "signed-up"}}])),
            ("timer", _graph("timer", [{"id": "pause", "type": "delay", "kind": "wait",
                                        "config": {"seconds": WAIT_SECONDS}},
                                       {"id": "points", "type": "action", "kind": "add_score",
                                        "config": {"points": 1}}])),
        ):  # fmt: skip
            scenario = scenarios.create_scenario(session, name=name, graph=graph, now=now)
            scenarios.activate(session, scenario.id, now=now)  # type: ignore[arg-type]
        contacts = [Contact(email=f"l{i}@bench.example") for i in range(RATE * SECONDS)]
        session.add_all(contacts)
        session.flush()
        ids = [c.id for c in contacts if c.id is not None]

    env = {**os.environ, "PARCOURS_DATABASE_URL": url, "PARCOURS_REDIS_URL": redis_url,
           "PARCOURS_DATA_DIR": str(folder)}  # fmt: skip
    worker = subprocess.Popen(
        [sys.executable, "-m", "worker"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        time.sleep(3)  # let the worker start
        asyncio.run(_feed(url, redis_url, ids, "signup"))
        asyncio.run(_feed(url, redis_url, ids[:200], "timer"))
        deadline = time.monotonic() + 60
        with engine.connect() as conn:
            while time.monotonic() < deadline:
                done = conn.execute(
                    text("SELECT count(*) FROM step_log WHERE node_id IN ('tag', 'points')")
                ).scalar_one()
                conn.rollback()
                if done >= len(ids) + 200:
                    break
                time.sleep(0.5)
            rows = conn.execute(
                text(
                    "SELECT e.received_at, s.at FROM step_log s JOIN events e "
                    "ON e.contact_id = s.contact_id AND e.name = 'signup' WHERE s.node_id = 'tag'"
                )
            ).all()
            waits = conn.execute(
                text(
                    "SELECT parked.at, woke.at FROM step_log parked JOIN step_log woke "
                    "ON woke.enrollment_id = parked.enrollment_id AND woke.seq = parked.seq + 1 "
                    "WHERE parked.node_id = 'pause' AND parked.outcome = 'waiting'"
                )
            ).all()
    finally:
        worker.terminate()
        worker.wait(timeout=20)
        engine.dispose()

    def seconds(a: Any, b: Any) -> float:
        return (datetime.fromisoformat(str(b)) - datetime.fromisoformat(str(a))).total_seconds()

    latencies = [seconds(received, acted) * 1000 for received, acted in rows]
    lateness = [
        seconds(parked, woke) - timedelta(seconds=WAIT_SECONDS).total_seconds()
        for parked, woke in waits
    ]
    if latencies:
        print(
            f"event → first action at {RATE} events/s (SQLite, 1 worker): "
            f"p50 {_percentile(latencies, 50):.0f} ms, p99 {_percentile(latencies, 99):.0f} ms "
            f"({len(latencies)} events)"
        )
    if lateness:
        print(
            f"timer lateness ({len(lateness)} waits of {WAIT_SECONDS} s): "
            f"p50 {_percentile(lateness, 50):.2f} s, max {max(lateness):.2f} s"
        )
