"""Simulation throughput: a scenario simulated over the contact base, against the real engine.

N contacts with 30 days of recorded events (page views, an abandoned cart each, a coupon
view for some) go through a 6-block scenario: trigger (cart_abandoned) → condition on
behaviour (two page views or more) → yes: wait a day → wait for coupon_viewed (a day) → yes:
add to a list, no: an email; no: the email. The simulation (``worker/simulation``, in
process, chunks of 50,000 contacts after a first one of 50, a scratch overlay database
each) replays the 30 days and runs a 3-day horizon; the real engine runs the same events on
a copy of the same data, activated at the start of the 30 days, driven by its own tasks
(``match_triggers``, ``advance``) on a frozen clock moved from one moment to the next (an
event arriving, a journey due), as the agreement tests do. Each runs in its own child
process, so its peak memory is its own. Printed: both contact-steps/s, the ratio, the
simulation's peak memory, the time to its first progress report, and whether both ended
with the same counts on every block.

    python bench/simulate.py [--contacts 100000]

``make bench`` runs it with BENCH_SIMULATE_CONTACTS (default 2,000). PostgreSQL too when
PARCOURS_BENCH_POSTGRES_URL (or PARCOURS_TEST_POSTGRES_URL) is set; Redis (for the engine's
hot counters and kicks) from PARCOURS_BENCH_REDIS_URL, else an embedded one.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import random
import resource
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parents[1]))

from sqlalchemy import func, insert, select, text
from sqlmodel import Session, SQLModel

from app.db import create_db_engine, read_only, session_scope
from app.migrate import upgrade
from app.models import (
    Contact,
    ContactList,
    MessagePurpose,
    MessageTemplate,
    ScenarioVersion,
    Simulation,
)
from app.services.scenarios import scenarios
from bench._databases import postgres_url, sqlite_url

T = SQLModel.metadata.tables
CONTACTS, ENROLLMENTS, EVENTS = T["contacts"], T["enrollments"], T["events"]
REPLAY_DAYS, HORIZON_DAYS = 30, 3
START = datetime(2026, 10, 1, 0, 0, tzinfo=UTC)  # the virtual activation
AS_OF = START + timedelta(days=REPLAY_DAYS)  # when the marketer asks
END = AS_OF + timedelta(days=HORIZON_DAYS)
DAY = 86400

GRAPH: dict[str, Any] = {
    "schema": 1,
    "nodes": [
        {"id": "cart", "type": "trigger", "kind": "event", "config": {"event": "cart_abandoned"}},
        {"id": "keen", "type": "condition", "kind": "if",
         "config": {"if": {"event": "page_viewed", "op": "count_gte", "value": 2}}},
        {"id": "pause", "type": "delay", "kind": "wait", "config": {"seconds": DAY}},
        {"id": "seen", "type": "delay", "kind": "wait_for_event",
         "config": {"event": "coupon_viewed", "timeout_seconds": DAY}},
        {"id": "remind", "type": "action", "kind": "send_email", "config": {"message": "reminder"}},
        {"id": "engaged", "type": "action", "kind": "add_to_list", "config": {"list": "engaged"}},
    ],
    "edges": [
        {"from": "cart", "to": "keen"},
        {"from": "keen", "port": "yes", "to": "pause"},
        {"from": "keen", "port": "no", "to": "remind"},
        {"from": "pause", "to": "seen"},
        {"from": "seen", "port": "yes", "to": "engaged"},
        {"from": "seen", "port": "no", "to": "remind"},
    ],
    "settings": {"reentry": "once"},
}  # fmt: skip


def story(contacts: int) -> list[tuple[int, int, str]]:
    """(hours after START it reached us, contact number, event), on whole hours, one event
    per contact per hour, none after AS_OF: each contact 0-3 page views, then a cart, and for
    about half a coupon view 25-54 hours after the cart (in time for the wait, or not)."""
    rng, last = random.Random(15), REPLAY_DAYS * 24
    rows = []
    for i in range(contacts):
        cart = rng.randint(5, last - 1)
        for hour in rng.sample(range(1, cart), rng.randint(0, 3)):
            rows.append((hour, i, "page_viewed"))
        rows.append((cart, i, "cart_abandoned"))
        if rng.random() < 0.5 and (hour := cart + rng.randint(25, 54)) <= last:
            rows.append((hour, i, "coupon_viewed"))
    return sorted(rows)


def prepare(url: str, contacts: int, recorded: bool) -> tuple[int, list[dict[str, Any]]]:
    """The contacts, lists, messages and the scenario (a draft). ``recorded``: the events
    are stored as already matched (by no scenario: the simulation's case); else they are
    returned, in time order, to reach the engine one moment after the other."""
    upgrade(url)
    engine = create_db_engine(url)
    with session_scope(engine) as session:
        session.add(ContactList(key="engaged", name="Engaged"))
        session.add(MessageTemplate(key="reminder", name="Reminder", subject="Your cart",
                                    purpose=MessagePurpose.marketing))  # fmt: skip
        session.flush()
        scenario = scenarios.create_scenario(session, name="bench", graph=GRAPH, now=START)
        scenario_id = scenario.id
    assert scenario_id is not None
    step = 20_000
    for first in range(0, contacts, step):
        with session_scope(engine) as session:
            rows = [
                {"email": f"c{i}@bench.example", "attributes": {}, "timezone": "UTC", "score": 0,
                 "email_consent": i % 10 != 0, "sms_consent": False,
                 "created_at": START - timedelta(days=60), "updated_at": START}
                for i in range(first, min(contacts, first + step))
            ]  # fmt: skip
            session.execute(insert(Contact), rows)
    with session_scope(engine) as session:
        ids = list(session.execute(select(CONTACTS.c.id).order_by(CONTACTS.c.id)).scalars())
    events = []
    for hour, i, name in story(contacts):
        at = START + timedelta(hours=hour)
        events.append(
            {"uid": uuid.uuid4().hex, "contact_id": ids[i], "name": name, "properties": {},
             "occurred_at": at, "received_at": at, "processed_at": at if recorded else None}
        )  # fmt: skip
    if recorded:
        for first in range(0, len(events), step):
            with session_scope(engine) as session:
                session.execute(insert(EVENTS), events[first : first + step])
        events = []
    engine.dispose()
    return scenario_id, events


def peak_memory_mb() -> float:
    """This process's peak resident memory since it started. Not ``ru_maxrss``: on Linux it
    keeps, across the exec of a spawned child, the parent's peak at the fork."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def block_counts(result_nodes: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    return {n: {k: v for k, v in c.items() if v} for n, c in result_nodes.items()}


def run_simulation_child(url: str, scenario_id: int, queue: Any) -> None:
    """In a child process: the simulation as the worker's task runs it, timed."""
    from worker.simulation import run as simulation_run

    engine = create_db_engine(url)
    with session_scope(engine) as session:
        simulation = Simulation(scenario_id=scenario_id, graph=GRAPH, replay_days=REPLAY_DAYS,
                                horizon_days=HORIZON_DAYS, as_of=AS_OF)  # fmt: skip
        session.add(simulation)
        session.flush()
        simulation_id = simulation.id
    assert simulation_id is not None
    first_progress: list[float] = []
    progress = simulation_run._progress

    def timed_progress(*args: Any) -> bool:
        if not first_progress:
            first_progress.append(time.perf_counter() - started)
        return progress(*args)

    simulation_run._progress = timed_progress  # type: ignore[assignment]
    started = time.perf_counter()
    status = simulation_run.run_simulation(engine, simulation_id)
    elapsed = time.perf_counter() - started
    peak_mb = peak_memory_mb()
    with Session(read_only(engine)) as session:
        done = session.get(Simulation, simulation_id)
        assert done is not None
        result = done.result
    engine.dispose()
    queue.put((status, int(result["steps"]), elapsed, first_progress[0], peak_mb,
               block_counts(result["nodes"])))  # fmt: skip


def run_engine_child(
    url: str, scenario_id: int, events: list[dict[str, Any]], redis_url: str, queue: Any
) -> None:
    """In a child process: activation at START, then the engine's tasks at each moment
    something happens (events reaching us, journeys due) up to END. Only the tasks are
    timed, not the storing of the arriving events."""
    queue.put(asyncio.run(_engine(url, scenario_id, events, redis_url)))


async def _engine(
    url: str, scenario_id: int, events: list[dict[str, Any]], redis_url: str
) -> tuple[int, float, float, dict[str, dict[str, int]]]:
    from arq import create_pool

    from app.clock import FrozenClock
    from app.services.scenarios.stats import version_stats
    from worker.engine import tasks
    from worker.engine.plans import Plans
    from worker.queue import redis_settings

    engine = create_db_engine(url)
    clock = FrozenClock(START)
    with session_scope(engine) as session:
        scenarios.activate(session, scenario_id, now=START)
    pool = await create_pool(redis_settings(redis_url))
    await pool.flushdb()
    ctx = {"engine": engine, "clock": clock, "redis": pool, "lanes": 0, "running": {},
           "plans": Plans()}  # fmt: skip
    ctx["lanes"] = tasks.engine_lanes(0, engine)
    busy = 0.0

    async def run_at(moment: datetime) -> None:
        nonlocal busy
        clock.current = moment
        began = time.perf_counter()
        while await tasks.match_triggers(ctx) + await tasks.advance(ctx):
            pass
        busy += time.perf_counter() - began

    def next_due(before: datetime) -> datetime | None:
        with Session(read_only(engine)) as session:
            wake = ENROLLMENTS.c.wake_at
            due = select(func.min(wake)).where(wake > clock.now())
            found = session.execute(due).scalar()
        return found if found is not None and found < before else None

    try:
        await run_at(START)
        at = 0
        while at < len(events):
            moment = events[at]["received_at"]
            while (due := next_due(moment)) is not None:
                await run_at(due)
            arriving = []
            while at < len(events) and events[at]["received_at"] == moment:
                arriving.append(events[at])
                at += 1
            with session_scope(engine) as session:
                session.execute(insert(EVENTS), arriving)
            await run_at(moment)
        while (due := next_due(END + timedelta(seconds=1))) is not None:
            await run_at(due)
    finally:
        await pool.aclose()
    peak_mb = peak_memory_mb()
    with Session(read_only(engine)) as session:
        steps = session.execute(text("SELECT count(*) FROM step_log")).scalar_one()
        version = session.execute(select(ScenarioVersion)).scalars().one()
        nodes = {n: c.model_dump() for n, c in version_stats(session, version).nodes.items()}
    engine.dispose()
    return int(steps), busy, peak_mb, block_counts(nodes)


def measure(label: str, make_url: Any, contacts: int, redis_url: str, engine: bool) -> None:
    """Both on the same work, or (``engine`` False) the simulation alone: for its memory and
    first progress at sizes the engine's run would take too long for."""
    spawn = multiprocessing.get_context("spawn")
    sim_url, sim_cleanup = make_url()
    real_url, real_cleanup = make_url() if engine else ("", lambda: None)
    try:
        scenario_id, _ = prepare(sim_url, contacts, recorded=True)
        queue: Any = spawn.Queue()
        child = spawn.Process(target=run_simulation_child, args=(sim_url, scenario_id, queue))
        child.start()
        status, sim_steps, sim_elapsed, first, sim_mb, predicted = queue.get()
        child.join()
        if engine:
            real_scenario_id, events = prepare(real_url, contacts, recorded=False)
            child = spawn.Process(
                target=run_engine_child,
                args=(real_url, real_scenario_id, events, redis_url, queue),
            )
            child.start()
            real_steps, real_elapsed, real_mb, real = queue.get()
            child.join()
    finally:
        sim_cleanup()
        real_cleanup()
    sim_rate = sim_steps / sim_elapsed
    print(
        f"{label:<10} {contacts:>9,} contacts, 30 days of events + {HORIZON_DAYS}-day horizon\n"
        f"{'':<10} simulation ({status}) {sim_steps:>9,} contact-steps in {sim_elapsed:6.1f} s"
        f" = {sim_rate:>8,.0f} /s, peak memory {sim_mb:,.0f} MB, first progress after"
        f" {first:.2f} s",
        flush=True,
    )
    if not engine:
        return
    real_rate = real_steps / real_elapsed
    print(
        f"{'':<10} engine              {real_steps:>9,} contact-steps in {real_elapsed:6.1f} s"
        f" = {real_rate:>8,.0f} /s, peak memory {real_mb:,.0f} MB\n"
        f"{'':<10} ratio simulation / engine x{sim_rate / real_rate:.2f} (target >= 1.5);"
        f" same counts on every block: {'yes' if predicted == real else 'NO'}",
        flush=True,
    )
    if predicted != real:
        print(f"{'':<10} simulated {predicted}\n{'':<10} real      {real}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    default = int(os.environ.get("BENCH_SIMULATE_CONTACTS", "2000"))
    parser.add_argument("--contacts", type=int, default=default)
    parser.add_argument(
        "--simulation-only", action="store_true", help="skip the engine (memory at scale)"
    )
    args = parser.parse_args()
    engine = not args.simulation_only

    from app.redis import EmbeddedRedis

    redis_url = os.environ.get("PARCOURS_BENCH_REDIS_URL", "")
    embedded = None
    if not redis_url:
        embedded = EmbeddedRedis(Path(tempfile.mkdtemp()))
        redis_url = embedded.start()
    try:
        measure("SQLite", sqlite_url, args.contacts, redis_url, engine)
        pg = os.environ.get("PARCOURS_BENCH_POSTGRES_URL") or os.environ.get(
            "PARCOURS_TEST_POSTGRES_URL"
        )
        if pg:
            measure("PostgreSQL", postgres_url(pg), args.contacts, redis_url, engine)
        else:
            print("PostgreSQL: skipped (set PARCOURS_BENCH_POSTGRES_URL)")
    finally:
        if embedded is not None:
            embedded.stop()


if __name__ == "__main__":
    main()
