"""Event ingestion against a running server: single events, batches of 1,000, Segment batches.

Starts ``uvicorn`` (one worker) on a fresh SQLite database and, when PARCOURS_BENCH_POSTGRES_URL
(or PARCOURS_TEST_POSTGRES_URL) is set, on a fresh PostgreSQL database; drives it over
keep-alive HTTP/1.1 connections and prints events/s, latency p50/p99 and the ratio to a no-op
endpoint on the same stack (bench/_ingest_app.py) measured in the same run. Rate limiting is
on (with a limit no run reaches), so its Redis counting is part of the figures. Segment batches
(bench/_segment_bodies.py: about 480 KB of track, page and identify calls each, HTTP Basic as
the libraries send) go to /segment/v1/batch.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from base64 import b64encode
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1]))

from app.db import create_db_engine, session_scope
from app.migrate import upgrade
from app.services.account.api_keys import create_api_key
from bench._databases import on_each_database
from bench._segment_bodies import segment_batches

ROOT = Path(__file__).parents[1]
SINGLE = int(os.environ.get("BENCH_SINGLE_EVENTS", "6000"))
BATCHES = int(os.environ.get("BENCH_BATCHES", "60"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "32"))
SEGMENT_BATCHES = int(os.environ.get("BENCH_SEGMENT_BATCHES", "40"))
BATCH_CONNECTIONS = 4
BATCH_SIZE = 1000
PEOPLE = 2000  # events name people from this pool: the first events create them


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Connection:
    """A minimal keep-alive HTTP/1.1 client: nothing between the benchmark and the server."""

    def __init__(self, port: int, authorization: str) -> None:
        self.port, self.authorization = port, authorization
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, body: bytes) -> int:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        assert self.reader is not None
        head = (
            f"POST {path} HTTP/1.1\r\nHost: bench\r\nAuthorization: {self.authorization}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        self.writer.write(head.encode() + body)
        status_line = await self.reader.readline()
        length = 0
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode().partition(":")
            if name.lower() == "content-length":
                length = int(value)
        await self.reader.readexactly(length)
        return int(status_line.split()[1])

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


async def drive(
    port: int,
    token: str,
    path: str,
    bodies: list[bytes],
    connections: int,
    *,
    basic: bool = False,
    expect: int = 202,
) -> tuple[float, list[float]]:
    """Posts every body over ``connections`` parallel connections; (seconds, latencies)."""
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)
    latencies: list[float] = []
    failures: list[int] = []

    async def client() -> None:
        authorization = (
            f"Basic {b64encode(f'{token}:'.encode()).decode()}" if basic else f"Bearer {token}"
        )
        conn = Connection(port, authorization)
        try:
            while not queue.empty():
                body = queue.get_nowait()
                start = time.perf_counter()
                status = await conn.post(path, body)
                latencies.append(time.perf_counter() - start)
                if status != expect:
                    failures.append(status)
        finally:
            conn.close()

    start = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(connections)))
    elapsed = time.perf_counter() - start
    if failures:
        raise SystemExit(f"{path}: {len(failures)} requests failed, e.g. HTTP {failures[0]}")
    return elapsed, latencies


def event(n: int, run: str) -> dict[str, object]:
    return {
        "id": f"{run}-{n}",
        "name": "page_view" if n % 3 else "cart_updated",
        "contact": {"email": f"person{n % PEOPLE}@bench.example"},
        "properties": {"path": f"/products/{n % 97}", "total": n % 500},
    }


def start_server(url: str, folder: Path) -> tuple[subprocess.Popen[bytes], int, str]:
    upgrade(url)
    engine = create_db_engine(url)
    with session_scope(engine) as session:
        _, token = create_api_key(session, name="bench")
    engine.dispose()
    port = free_port()
    env = {
        **os.environ,
        "PARCOURS_ENV": "test",
        "PARCOURS_DATABASE_URL": url,
        "PARCOURS_DATA_DIR": str(folder),
        "PARCOURS_SECRET_KEY": "bench-" + "s" * 40,
        "PARCOURS_API_RATE_LIMIT": os.environ.get("BENCH_RATE_LIMIT", "1000000000"),
        "PYTHONPATH": str(ROOT),
    }
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "_ingest_app:bench_app",
            "--app-dir",
            str(ROOT / "bench"),
            "--port",
            str(port),
            "--workers",
            "1",
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        env=env,
        cwd=folder,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return server, port, token
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit("the server did not start")


def figures(label: str, events: int, elapsed: float, latencies: list[float]) -> float:
    rate = events / elapsed
    q = statistics.quantiles(latencies, n=100)
    print(
        f"  {label:<34} {rate:>9,.0f} events/s   p50 {q[49] * 1000:6.1f} ms   "
        f"p99 {q[98] * 1000:6.1f} ms"
    )
    return rate


async def measure(port: int, token: str) -> None:
    warm = [json.dumps(event(n, "warm")).encode() for n in range(300)]
    await drive(port, token, "/api/v1/events", warm, CONNECTIONS)

    singles = [json.dumps(event(n, "single")).encode() for n in range(SINGLE)]
    timing = await drive(port, token, "/api/bench-noop", singles, CONNECTIONS)
    noop = figures("no-op endpoint, one event a request", SINGLE, *timing)
    timing = await drive(port, token, "/api/v1/events", singles, CONNECTIONS)
    single = figures("POST /events, one event a request", SINGLE, *timing)
    print(f"  {'':<34} ratio to no-op: {single / noop:.2f}")

    batches = [
        json.dumps(
            {"events": [event(b * BATCH_SIZE + i, "batch") for i in range(BATCH_SIZE)]}
        ).encode()
        for b in range(BATCHES)
    ]
    total = BATCHES * BATCH_SIZE
    timing = await drive(port, token, "/api/bench-noop", batches, BATCH_CONNECTIONS)
    noop_b = figures("no-op endpoint, 1,000 events a request", total, *timing)
    timing = await drive(port, token, "/api/v1/events/batch", batches, BATCH_CONNECTIONS)
    batch = figures("POST /events/batch, 1,000 a request", total, *timing)
    print(f"  {'':<34} ratio to no-op: {batch / noop_b:.2f}")
    timing = await drive(port, token, "/api/v1/events/batch", batches, BATCH_CONNECTIONS)
    figures("the same batches again (all duplicates)", total, *timing)

    segment = segment_batches(SEGMENT_BATCHES)
    total = SEGMENT_BATCHES * BATCH_SIZE
    timing = await drive(port, token, "/api/bench-noop", segment, BATCH_CONNECTIONS)
    noop_s = figures("no-op endpoint, a Segment batch a request", total, *timing)
    timing = await drive(
        port, token, "/segment/v1/batch", segment, BATCH_CONNECTIONS, basic=True, expect=200
    )
    seg = figures("POST /segment/v1/batch, 1,000 a request", total, *timing)
    print(f"  {'':<34} ratio to no-op: {seg / noop_s:.2f}")


def run(label: str, url: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        server, port, token = start_server(url, Path(folder))
        try:
            print(f"{label} (one uvicorn worker, {CONNECTIONS} connections for single events)")
            asyncio.run(measure(port, token))
        finally:
            server.terminate()
            server.wait(timeout=20)


def main() -> None:
    on_each_database(run, "ingest")


if __name__ == "__main__":
    main()
