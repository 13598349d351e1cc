"""Engine throughput: contacts through trigger → yes/no condition → action, chunked vs naive.

N contacts buy (one `purchase` event each) and enter: "first purchase?" → yes: add to a list,
no: add score points. The design runs the engine's own chunked code in one worker process; the
baseline runs the same steps as one arq job per contact-step (real Redis, a commit per step),
on a sample, in the same run. Also prints the variants with an email step (outbox rows), a
random split and a switch for the condition (each beside list/score as a ratio), the worker's
peak memory, the steps that follow a wait (the advancing path that timers take), event → first
action latency with a real worker process, and timer lateness.

    python bench/engine.py [--contacts 100000] [--naive-sample 1500] [--skip-latency]

PostgreSQL too when PARCOURS_BENCH_POSTGRES_URL (or PARCOURS_TEST_POSTGRES_URL) is set.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parents[1]))

from sqlalchemy import func, insert, select, text

from app.clock import SystemClock
from app.db import create_db_engine, session_scope
from app.migrate import upgrade
from app.models import Contact, ContactList, MessageTemplate, StepLog
from app.services.scenarios import scenarios
from bench._databases import postgres_url, sqlite_url

GRAPH: dict[str, Any] = {
    "schema": 1,
    "nodes": [
        {"id": "buy", "type": "trigger", "kind": "event", "config": {"event": "purchase"}},
        {"id": "first", "type": "condition", "kind": "if",
         "config": {"if": {"attribute": "orders_count", "op": "eq", "value": 1}}},
        {"id": "tag", "type": "action", "kind": "add_to_list", "config": {"list": "first-buyers"}},
        {"id": "points", "type": "action", "kind": "add_score", "config": {"points": 10}},
    ],
    "edges": [
        {"from": "buy", "to": "first"},
        {"from": "first", "port": "yes", "to": "tag"},
        {"from": "first", "port": "no", "to": "points"},
    ],
    "settings": {"reentry": "always"},
}  # fmt: skip
EMAIL_STEP = {"id": "tag", "type": "action", "kind": "send_email", "config": {"message": "coupon"}}
EMAIL_GRAPH: dict[str, Any] = {
    **GRAPH,
    "nodes": [*GRAPH["nodes"][:2], EMAIL_STEP, GRAPH["nodes"][3]],
}
# The same after a one-second wait: the steps after it are run by the advancing path (claim
# the due enrollments, move them, update them), which is what timers and waits go through.
DELAY_GRAPH: dict[str, Any] = {
    **GRAPH,
    "nodes": [
        *GRAPH["nodes"],
        {"id": "pause", "type": "delay", "kind": "wait", "config": {"seconds": 1}},
    ],
    "edges": [{"from": "buy", "to": "pause"}, {"from": "pause", "to": "first"},
              *GRAPH["edges"][1:]],
}  # fmt: skip

# The same with a random split (50 / 50) for the condition: each journey's draw is a hash.
SPLIT_GRAPH: dict[str, Any] = {
    **GRAPH,
    "nodes": [
        GRAPH["nodes"][0],
        {"id": "first", "type": "condition", "kind": "random_split",
         "config": {"branches": [{"port": "a", "label": "A", "percent": 50},
                                 {"port": "b", "label": "B", "percent": 50}]}},
        *GRAPH["nodes"][2:],
    ],
    "edges": [{"from": "buy", "to": "first"}, {"from": "first", "port": "a", "to": "tag"},
              {"from": "first", "port": "b", "to": "points"}],
}  # fmt: skip
# The same with a switch for the condition: everyone is tested on a first case nobody matches,
# then "first purchase" takes half of them and else the others (two evaluations, one facts load).
SWITCH_GRAPH: dict[str, Any] = {
    **GRAPH,
    "nodes": [
        GRAPH["nodes"][0],
        {"id": "first", "type": "condition", "kind": "switch",
         "config": {"cases": [
             {"port": "c1", "label": "Third",
              "if": {"attribute": "orders_count", "op": "eq", "value": 3}},
             {"port": "c2", "label": "First",
              "if": {"attribute": "orders_count", "op": "eq", "value": 1}},
         ]}},
        *GRAPH["nodes"][2:],
    ],
    "edges": [{"from": "buy", "to": "first"}, {"from": "first", "port": "c2", "to": "tag"},
              {"from": "first", "port": "else", "to": "points"}],
}  # fmt: skip


def prepare(url: str, contacts: int, graph: dict[str, Any]) -> None:
    upgrade(url)
    engine = create_db_engine(url)
    now = datetime.now(UTC)
    with session_scope(engine) as session:
        session.add(ContactList(key="first-buyers", name="First buyers"))
        session.add(MessageTemplate(key="coupon", name="Coupon", subject="10% off"))
        session.flush()
        scenario = scenarios.create_scenario(session, name="bench", graph=graph, now=now)
        scenarios.activate(session, scenario.id, now=now)  # type: ignore[arg-type]
    step = 20_000
    for start in range(0, contacts, step):
        with session_scope(engine) as session:
            rows = [
                {"email": f"c{i}@bench.example", "attributes": {"orders_count": 1 + i % 2},
                 "timezone": "UTC", "score": 0, "email_consent": True, "sms_consent": False,
                 "created_at": now, "updated_at": now}
                for i in range(start, min(contacts, start + step))
            ]  # fmt: skip
            session.execute(insert(Contact), rows)
    with session_scope(engine) as session:
        session.execute(
            text(
                "INSERT INTO events (uid, contact_id, name, properties, occurred_at, received_at) "
                "SELECT 'e' || id, id, 'purchase', '{}', :now, :now FROM contacts"
            ),
            {"now": now.replace(tzinfo=None)},
        )
    engine.dispose()


def run_chunked(url: str, queue: Any, after_delay: bool = False) -> None:
    """In a child process, so its peak memory is the worker's own. Runs as many lanes
    (transactions side by side, in threads) as the worker would. ``after_delay``: times only
    the steps after the scenario's wait, once it is over."""
    from concurrent.futures import ThreadPoolExecutor

    from worker.engine.advance import advance_chunk
    from worker.engine.plans import Plans
    from worker.engine.tasks import engine_lanes
    from worker.engine.triggers import match_events

    engine = create_db_engine(url)
    plans, clock = Plans(), SystemClock()

    lanes = engine_lanes(0, engine)

    def lane(index: int, match: bool = True, advance: bool = True) -> int:
        steps = 0
        while True:
            reports: list[Any] = []
            if match:
                with session_scope(engine) as session:
                    now = clock.now()
                    reports.append(match_events(session, plans, now, lane=(index, lanes)))
            if advance:
                with session_scope(engine) as session:
                    reports.append(advance_chunk(session, plans, clock.now()))
            if all(report is None for report in reports):
                return steps
            steps += sum(report.steps for report in reports if report is not None)

    started = time.perf_counter()
    with ThreadPoolExecutor(lanes) as pool:
        if not after_delay:
            steps = sum(pool.map(lane, range(lanes)))
        else:  # everyone enters and parks on the wait; once it is over, time what follows
            sum(pool.map(lambda index: lane(index, advance=False), range(lanes)))
            time.sleep(1.5)
            started = time.perf_counter()
            steps = sum(pool.map(lambda index: lane(index, match=False), range(lanes)))
    elapsed = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    queue.put((steps, elapsed, peak_mb, lanes))


async def run_naive(url: str, redis_url: str, sample: int) -> tuple[int, float]:
    """One arq job per contact-step: the same step code, one enrollment and one commit per job."""
    from arq import create_pool
    from arq.worker import Worker

    from app.services.scenarios.enrollments import Candidate, enroll
    from worker.engine.advance import advance_chunk
    from worker.engine.plans import Plans
    from worker.queue import redis_settings

    engine = create_db_engine(url)
    plans, clock = Plans(), SystemClock()
    with session_scope(engine) as session:  # enrollments are created in bulk, at the trigger
        [live] = plans.live(session)
        contacts = session.execute(text(f"SELECT id FROM contacts LIMIT {sample}")).scalars()
        enroll(
            session,
            [Candidate(live.scenario_id, live.version_id, "buy", c) for c in contacts],
            {live.version_id: live.plan},
            clock.now(),
        )
        session.execute(text("UPDATE events SET processed_at = received_at"))
        ids = list(session.execute(text("SELECT id FROM enrollments")).scalars())

    async def step(ctx: dict[str, Any], enrollment_id: int) -> None:
        def work() -> bool:
            with session_scope(engine) as session:
                report = advance_chunk(
                    session, plans, clock.now(), 1, only=[enrollment_id], max_rounds=1
                )
                return report is not None and report.steps > 0

        if await asyncio.to_thread(work):
            await ctx["redis"].enqueue_job("step", enrollment_id, _queue_name="naive")

    settings = redis_settings(redis_url)
    pool = await create_pool(settings, default_queue_name="naive")
    await pool.flushdb()
    for enrollment_id in ids:
        await pool.enqueue_job("step", enrollment_id, _queue_name="naive")
    worker = Worker(
        functions=[_named(step, "step")],
        redis_settings=settings,
        queue_name="naive",
        burst=True,
        poll_delay=0.0,
        max_jobs=10,
        keep_result=0,
        handle_signals=False,
    )
    started = time.perf_counter()
    await worker.main()
    elapsed = time.perf_counter() - started
    await worker.close()
    await pool.aclose()
    with session_scope(engine) as session:
        steps = session.execute(
            select(func.count()).select_from(StepLog).where(StepLog.enrollment_id.in_(ids))  # type: ignore[attr-defined]
        ).scalar_one()
    engine.dispose()
    return int(steps), elapsed


def _named(coroutine: Any, name: str) -> Any:
    from arq.worker import func as arq_func

    return arq_func(coroutine, name=name)


def measure(label: str, make_url: Any, contacts: int, sample: int, redis_url: str) -> None:
    variants = (
        ("list/score", GRAPH),
        ("email", EMAIL_GRAPH),
        ("after wait", DELAY_GRAPH),
        ("split", SPLIT_GRAPH),
        ("switch", SWITCH_GRAPH),
    )
    rates: dict[str, float] = {}
    for variant, graph in variants:
        url, cleanup = make_url()
        try:
            prepare(url, contacts, graph)
            queue: Any = multiprocessing.get_context("spawn").Queue()
            child = multiprocessing.get_context("spawn").Process(
                target=run_chunked, args=(url, queue, graph is DELAY_GRAPH)
            )
            child.start()
            steps, elapsed, peak_mb, lanes = queue.get()
            child.join()
            rate = rates[variant] = steps / elapsed
            line = (
                f"{label:<10} {variant:<10} {contacts:>9,} contacts  {steps:>9,} steps in "
                f"{elapsed:6.1f} s = {rate:>8,.0f} steps/s, peak worker memory {peak_mb:,.0f} MB"
                f" ({lanes} lane{'s' if lanes > 1 else ''})"
            )
            if variant == "list/score" and sample:
                url2, cleanup2 = make_url()
                try:
                    prepare(url2, sample, graph)
                    naive_steps, naive_elapsed = asyncio.run(run_naive(url2, redis_url, sample))
                finally:
                    cleanup2()
                naive_rate = naive_steps / naive_elapsed
                line += (
                    f"\n{'':<10} {'naive':<10} one arq job per step ({sample:,} contacts): "
                    f"{naive_rate:,.0f} steps/s   ratio x{rate / naive_rate:,.0f}"
                )
            if variant != "list/score" and rates.get("list/score"):
                line += f"   x{rate / rates['list/score']:.2f} of list/score"
            print(line, flush=True)
        finally:
            cleanup()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--naive-sample", type=int, default=1500)
    parser.add_argument("--skip-latency", action="store_true")
    args = parser.parse_args()

    from app.redis import EmbeddedRedis

    redis_url = os.environ.get("PARCOURS_BENCH_REDIS_URL", "")
    embedded = None
    if not redis_url:
        embedded = EmbeddedRedis(Path(tempfile.mkdtemp()))
        redis_url = embedded.start()
    try:
        measure("SQLite", sqlite_url, args.contacts, args.naive_sample, redis_url)
        pg = os.environ.get("PARCOURS_BENCH_POSTGRES_URL") or os.environ.get(
            "PARCOURS_TEST_POSTGRES_URL"
        )
        if pg:
            measure("PostgreSQL", postgres_url(pg), args.contacts, args.naive_sample, redis_url)
        else:
            print("PostgreSQL: skipped (set PARCOURS_BENCH_POSTGRES_URL)")
        if not args.skip_latency:
            from bench.engine_latency import latency_and_lateness

            latency_and_lateness(redis_url)
    finally:
        if embedded is not None:
            embedded.stop()


if __name__ == "__main__":
    main()
