"""Emails per second from the outbox to a local SMTP server, and proof of the rate limit.

Design: the delivery worker (chunks claimed in one statement, one reused SMTP connection,
outcomes written in bulk). Baseline, in the same run and on the same database: a naive
drainer that claims, connects, sends and commits one message at a time. Then the rate test:
with PARCOURS_SMTP_RATE_PER_SECOND=100, the busiest one-second window the SMTP server saw.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiosmtplib
from redis.asyncio import Redis
from sqlalchemy import insert, text, update
from sqlmodel import Session, SQLModel

sys.path.insert(0, str(Path(__file__).parents[1]))

from app.clock import SystemClock, utcnow
from app.config import Settings
from app.db import create_db_engine, session_scope
from app.migrate import upgrade
from app.models import Contact, MessageTemplate
from app.redis import EmbeddedRedis
from app.services.messaging.outbox import OutboxEntry, add_to_outbox
from worker.delivery import Delivery
from worker.delivery.compose import Composer
from worker.delivery.store import claim_due

EMAILS = int(os.environ.get("BENCH_EMAILS", "3000"))
NAIVE_SAMPLE = int(os.environ.get("BENCH_NAIVE_SAMPLE", "300"))
RATE = 100
RATE_SAMPLE = int(os.environ.get("BENCH_RATE_SAMPLE", "350"))
OUTBOX = SQLModel.metadata.tables["outbox"]
HTML = """<html><head><style>h1 { color: #4f46e5; } p { font: 16px Arial; }</style></head>
<body><h1>Hello {{ contact.first_name | default("there") }}</h1>
<p>Your cart: {{ event.properties.cart_total }} €.
<a href="https://shop.example/cart">Back to it</a></p>
</body></html>"""


SINK = """
import sys, time
from aiosmtpd.controller import Controller

class Sink:
    async def handle_DATA(self, server, session, envelope):
        print(time.monotonic(), flush=True)
        return "250 OK"

controller = Controller(Sink(), hostname="127.0.0.1", port=int(sys.argv[1]))
controller.start()
print("ready", flush=True)
sys.stdin.read()
controller.stop()
"""


class Sink:
    """A local aiosmtpd server in its own process (as a real server would be), which prints
    the moment it accepts each message (CLOCK_MONOTONIC is shared by processes)."""

    def __init__(self, port: int) -> None:
        self.log = Path(tempfile.mkdtemp()) / "sink.log"
        with self.log.open("w") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-c", SINK, str(port)],
                stdin=subprocess.PIPE,
                stdout=out,
                text=True,
            )
        for _ in range(200):
            if self.log.read_text().startswith("ready"):
                return
            time.sleep(0.05)
        raise RuntimeError("the SMTP sink did not start")

    def times(self) -> list[float]:
        lines = self.log.read_text().split()[1:]
        return [float(line) for line in lines]

    def stop(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=10)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def fill(engine: Any, count: int, prefix: str) -> None:
    now = utcnow()
    with Session(engine) as session:
        if session.get(MessageTemplate, 1) is None:
            session.add(
                MessageTemplate(
                    key="cart", name="Cart", subject="Hi {{ contact.first_name }}", html=HTML
                )
            )
        session.execute(
            insert(Contact),
            [
                {
                    "email": f"{prefix}{i}@bench.example",
                    "first_name": "Léa",
                    "attributes": {},
                    "created_at": now,
                    "updated_at": now,
                    "timezone": "UTC",
                    "score": 0,
                    "email_consent": True,
                    "sms_consent": False,
                }
                for i in range(count)
            ],
        )
        ids = [
            row[0]
            for row in session.execute(
                text("SELECT id FROM contacts WHERE email LIKE :p ORDER BY id"), {"p": f"{prefix}%"}
            )
        ]
        entries = [
            OutboxEntry(
                f"{prefix}:{cid}", "email", cid, {"message": "cart", "event": {"cart_total": 42}}
            )
            for cid in ids
        ]
        for start in range(0, len(entries), 1000):
            add_to_outbox(session, entries[start : start + 1000], now - timedelta(seconds=1))
        session.commit()


async def naive(engine: Any, settings: Settings, port: int, count: int) -> float:
    """One claim, one connection and one commit per message."""
    composer = Composer(settings)
    started = time.perf_counter()
    for _ in range(count):
        rows = claim_due(engine, utcnow(), 1, timedelta(minutes=5))
        with session_scope(engine) as session:
            job = composer.prepare(session, rows, utcnow()).emails[0]
        envelope = job.envelope
        await aiosmtplib.send(
            envelope.data,
            sender=envelope.sender,
            recipients=envelope.recipients,
            hostname="127.0.0.1",
            port=port,
        )
        with session_scope(engine) as session:
            session.execute(update(OUTBOX).where(OUTBOX.c.id == rows[0].id).values(status="sent"))
    return count / (time.perf_counter() - started)


async def design(engine: Any, settings: Settings, redis: Any = None) -> tuple[float, int]:
    delivery = Delivery(engine=engine, clock=SystemClock(), settings=settings, redis=redis)
    started = time.perf_counter()
    totals = await delivery.run()
    elapsed = time.perf_counter() - started
    assert delivery.smtp is not None
    return totals.get("sent", 0) / elapsed, delivery.smtp.connections


def busiest_second(times: list[float]) -> int:
    times, best, start = sorted(times), 0, 0
    for end, at in enumerate(times):
        while at - times[start] >= 1.0:
            start += 1
        best = max(best, end - start + 1)
    return best


async def main() -> None:
    folder = Path(tempfile.mkdtemp())
    url = f"sqlite:///{(folder / 'bench.db').as_posix()}"
    upgrade(url)
    engine = create_db_engine(url)
    port = free_port()
    sink = Sink(port)
    base = Settings(
        env="test",
        data_dir=folder,
        database_url=url,
        secret_key="bench-" + "x" * 40,
        smtp_url=f"smtp://127.0.0.1:{port}",
        smtp_rate_per_second=1_000_000,
    )
    try:
        fill(engine, NAIVE_SAMPLE, "naive")
        baseline = await naive(engine, base, port, NAIVE_SAMPLE)

        fill(engine, EMAILS, "design")
        before = len(sink.times())
        rate, connections = await design(engine, base)
        received = len(sink.times()) - before
        print(f"emails from the outbox to SMTP (SQLite, {EMAILS} emails, {received} received)")
        print(f"  baseline, one connection and one commit per email: {baseline:8.0f} /s")
        print(f"  Parcours, chunks + one reused connection ({connections}): {rate:8.0f} /s")
        print(
            f"  ratio: x{rate / baseline:.1f}   "
            f"target >= 500/s: {'met' if rate >= 500 else 'MISSED'}"
        )

        # As a worker runs it: the drain lease's heartbeat and an accept mark per message.
        redis_url = os.environ.get("PARCOURS_BENCH_REDIS_URL") or os.environ.get(
            "PARCOURS_TEST_REDIS_URL", ""
        )
        embedded = None
        if not redis_url:
            embedded = EmbeddedRedis(folder / "redis")
            redis_url = embedded.start()
        redis = Redis.from_url(redis_url)
        try:
            await redis.delete("parcours:delivery:lease")
            fill(engine, EMAILS, "marked")
            marked, _ = await design(engine, base, redis)
            print(f"  with Redis (lease heartbeat, an accept mark per email): {marked:8.0f} /s")
        finally:
            await redis.aclose()
            if embedded is not None:
                embedded.stop()

        fill(engine, RATE_SAMPLE, "rated")
        before = len(sink.times())
        rated = base.model_copy(update={"smtp_rate_per_second": RATE})
        started = time.perf_counter()
        await design(engine, rated)
        elapsed = time.perf_counter() - started
        busiest = busiest_second(sink.times()[before:])
        print(f"rate limit {RATE}/s, {RATE_SAMPLE} emails in {elapsed:.2f} s")
        print(
            f"  busiest one-second window seen by the SMTP server: {busiest} emails "
            f"({'never exceeded' if busiest <= RATE else 'EXCEEDED'})"
        )
    finally:
        sink.stop()
        engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())
