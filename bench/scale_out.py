"""Several worker processes on one PostgreSQL: do they share the work, or queue on locks?

The same backlog (N contacts buy; each enters, parks on a one-second wait, then goes through
a yes/no condition to a list or score action) is run by 1, 2 and 3 real worker processes
(``python -m worker``), each on a fresh database, in the same run. Printed per run: the
matching phase (events matched, the first steps of each journey run with them), the
advancing phase (the steps after the wait), and the workers' CPU seconds per 1,000 steps
(from /proc, the worker processes only: PostgreSQL's own CPU is not counted). On 2 cores no
speed-up is expected from more workers; no slow-down should be seen either.

    python bench/scale_out.py [--contacts 20000] [--workers 1,2,3]

Needs PARCOURS_BENCH_POSTGRES_URL (or PARCOURS_TEST_POSTGRES_URL); Redis from
PARCOURS_BENCH_REDIS_URL / PARCOURS_TEST_REDIS_URL, else an embedded one.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1]))

from sqlalchemy import func, select, text

from app.db import create_db_engine
from app.models import Enrollment, Event
from bench.engine import DELAY_GRAPH, prepare

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def wait_for(engine, query, target: int, limit: float = 600) -> float:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    while True:
        with engine.connect() as conn:
            if conn.execute(query).scalar_one() >= target:
                return time.perf_counter() - started
        if time.perf_counter() - started > limit:
            raise SystemExit("the workers did not finish in time")
        time.sleep(0.05)


def run(url: str, redis_url: str, workers: int, contacts: int, folder: Path) -> dict[str, float]:
    from redis import Redis

    prepare(url, contacts, DELAY_GRAPH)
    Redis.from_url(redis_url).flushdb()
    engine = create_db_engine(url)
    env = {**os.environ, "PARCOURS_DATABASE_URL": url, "PARCOURS_REDIS_URL": redis_url,
           "PARCOURS_DATA_DIR": str(folder), "PARCOURS_ENV": "test"}  # fmt: skip
    log = (folder / f"workers-{workers}.log").open("ab")
    processes = [
        subprocess.Popen([sys.executable, "-m", "worker"], env=env, stdout=log, stderr=log)
        for _ in range(workers)
    ]
    matched = select(func.count()).select_from(Event).where(Event.processed_at.is_not(None))  # type: ignore[union-attr]
    done = select(func.count()).select_from(Enrollment).where(Enrollment.state == "completed")  # type: ignore[arg-type]
    try:
        matching = wait_for(engine, matched, contacts)
        ended = wait_for(engine, done, contacts)
        cpu = sum(cpu_seconds(p.pid) for p in processes)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)
        log.close()
    with engine.connect() as conn:
        steps = conn.execute(text("SELECT count(*) FROM step_log")).scalar_one()
        # Matching runs "buy" and parks on the wait; after it: woke, condition, action. Each
        # phase is timed from the step log (a chunk's steps carry its time), as the two
        # overlap: the first journeys' wait is over before the last events are matched.
        phases = {
            phase: conn.execute(
                text(f"SELECT count(*), min(at), max(at) FROM step_log WHERE {where}")
            ).one()
            for phase, where in {
                "match": "node_id = 'buy' OR (node_id = 'pause' AND outcome = 'waiting')",
                "advance": "node_id <> 'buy' AND NOT (node_id = 'pause' AND outcome = 'waiting')",
            }.items()
        }
    engine.dispose()
    rates = {
        phase: count / max((last - first).total_seconds(), 1e-3)
        for phase, (count, first, last) in phases.items()
    }
    return {**rates, "cpu": cpu / steps * 1000, "steps": steps, "wall": matching + ended}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contacts", type=int, default=20_000)
    parser.add_argument("--workers", default="1,2,3")
    args = parser.parse_args()
    server = os.environ.get("PARCOURS_BENCH_POSTGRES_URL") or os.environ.get(
        "PARCOURS_TEST_POSTGRES_URL"
    )
    if not server:
        print("PostgreSQL: skipped (set PARCOURS_BENCH_POSTGRES_URL)")
        return
    from tests.databases import PostgresDatabase

    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        redis_url = os.environ.get("PARCOURS_BENCH_REDIS_URL") or os.environ.get(
            "PARCOURS_TEST_REDIS_URL", ""
        )
        embedded = None
        if not redis_url:
            from app.redis import EmbeddedRedis

            embedded = EmbeddedRedis(folder / "redis")
            redis_url = embedded.start()
        results: dict[int, dict[str, float]] = {}
        try:
            for workers in [int(n) for n in args.workers.split(",")]:
                database = PostgresDatabase(server)
                try:
                    results[workers] = run(
                        database.create(), redis_url, workers, args.contacts, folder
                    )
                finally:
                    database.drop()
        finally:
            if embedded is not None:
                embedded.stop()
    base = results[min(results)]
    print(f"PostgreSQL, {args.contacts:,} contacts, {os.cpu_count()} cores")
    print("workers  matching steps/s      advancing steps/s     worker CPU s / 1,000 steps")
    for workers, r in results.items():
        print(
            f"{workers:>7}  {r['match']:>9,.0f} (x{r['match'] / base['match']:.2f})"
            f"    {r['advance']:>9,.0f} (x{r['advance'] / base['advance']:.2f})"
            f"    {r['cpu']:.3f}"
        )


if __name__ == "__main__":
    main()
