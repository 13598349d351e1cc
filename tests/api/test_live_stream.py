"""Live counters over SSE, against a real uvicorn server, a real Redis and the real engine:
a snapshot on connect, the engine's next chunk a moment later, and a server that stops while
a stream is open."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from redis.asyncio import Redis
from sqlmodel import Session

from app.config import Settings
from app.db import create_db_engine
from app.main import create_app
from app.migrate import upgrade
from app.services.account.users import create_user
from app.services.scenarios import scenarios
from tests.fixtures.web import free_port as _free_port
from tests.worker.engine_harness import Engine
from worker.engine import counters

PASSWORD = "live-stream-password"


@dataclass
class Running:
    url: str
    server: uvicorn.Server
    thread: threading.Thread
    database_url: str


@pytest.fixture
def running(redis_url: str, tmp_path: Path) -> Iterator[Running]:
    port = _free_port()
    settings = Settings(
        env="test",
        data_dir=tmp_path,
        database_url=f"sqlite:///{(tmp_path / 'live.db').as_posix()}",
        redis_url=redis_url,
        secret_key="live-stream-" + "z" * 40,
        base_url=f"http://127.0.0.1:{port}",
        live_stream_seconds=300,  # far longer than any test: only a stop may end the stream
    )
    upgrade(settings.database_url)
    config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        assert thread.is_alive(), "the server did not start"
        time.sleep(0.02)
    yield Running(settings.base_url, server, thread, settings.database_url)
    server.should_exit = True
    thread.join(timeout=30)


def logged_in_client(running: Running) -> httpx.Client:
    engine = create_db_engine(running.database_url)
    with Session(engine) as session:
        create_user(session, email="live@parcours.test", password=PASSWORD, name="Live")
        session.commit()
    engine.dispose()
    client = httpx.Client(base_url=running.url, timeout=20)
    page = client.get("/login")
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    done = client.post(
        "/login",
        data={
            "email": "live@parcours.test",
            "password": PASSWORD,
            "csrf_token": token,
            "next": "/",
        },
    )
    assert done.status_code == 303
    return client


def events(lines: Iterator[str]) -> Iterator[dict[str, Any]]:
    name = None
    for line in lines:
        if line.startswith("event: "):
            name = line.removeprefix("event: ")
        elif line.startswith("data: ") and name == "counters":
            yield json.loads(line.removeprefix("data: "))


def publish(redis_url: str, changes: Any) -> None:
    async def go() -> None:
        redis = Redis.from_url(redis_url)
        await counters.publish(redis, changes)
        await redis.aclose()

    asyncio.run(go())


def test_a_snapshot_on_connect_then_each_committed_chunk_and_a_clean_stop(
    running: Running, redis_url: str
) -> None:
    client = logged_in_client(running)
    db = create_db_engine(running.database_url)
    with Session(db, expire_on_commit=False) as session:
        flow = Engine(session)
        scenario, _ = scenarios.create_from_template(
            session, "abandoned_cart", now=flow.clock.now()
        )
        scenarios.activate(session, scenario.id or 0, now=flow.clock.now())
        session.commit()

        assert client.get("/scenarios/999/live").status_code == 404
        with client.stream("GET", f"/scenarios/{scenario.id}/live") as stream:
            assert stream.headers["content-type"].startswith("text/event-stream")
            received = events(stream.iter_lines())
            first = next(received)
            assert first["nodes"]["hour"]["counts"]["entered"] == 0
            assert set(first["edges"]) >= {
                "cart|out|hour",
                "hour|no|reminder",
                "hour|yes|bought_in_the_hour",
            }

            for i in range(3):
                flow.event(flow.contact(f"live{i}@shop.test"), "cart_updated", cart_id=f"k{i}")
            flow.run()
            session.commit()  # the engine commits its chunk, then publishes
            publish(redis_url, flow.counters)

            update = next(received)
            assert update["nodes"]["hour"]["counts"] == {
                "entered": 3, "waiting": 3, "yes": 0, "no": 0, "completed": 0, "failed": 0, "skipped": 0,
                "deferred": 0,
            }  # fmt: skip
            assert update["edges"]["cart|out|hour"]["count"] == 3
            assert 'data-counter="waiting"' in update["nodes"]["hour"]["html"]
            assert "3</b> waiting" in update["nodes"]["hour"]["html"]

            running.server.should_exit = True  # a stop with the stream still open
            running.thread.join(timeout=30)
            assert not running.thread.is_alive(), "uvicorn did not stop with a stream open"
    client.close()
    db.dispose()
