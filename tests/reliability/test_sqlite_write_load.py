"""On SQLite, web writes get their turn while the engine works through a backlog."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from redis import Redis
from sqlalchemy import func, select

from app.config import Settings
from app.db import create_db_engine, session_scope
from app.main import create_app
from app.migrate import upgrade
from app.models import Contact, Event
from app.services.account.api_keys import create_api_key
from tests.conftest import new_database_url
from tests.fixtures.web import free_port, serving
from tests.reliability.test_worker_failures import count, prepare
from tests.reliability.workers import running_workers, wait_until

pytestmark = pytest.mark.reliability
BACKLOG = 12_000
POSTS = 160


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    url, _ = new_database_url("sqlite", tmp_path)
    upgrade(url)
    return url


@pytest.fixture
def web(sqlite_url: str, redis_url: str, tmp_path: Path) -> Iterator[str]:
    port = free_port()
    settings = Settings(
        env="test",
        data_dir=tmp_path,
        database_url=sqlite_url,
        redis_url=redis_url,
        secret_key="load-secret-" + "z" * 40,
        base_url=f"http://127.0.0.1:{port}",
    )
    with serving(create_app(settings), port):
        yield settings.base_url


def test_contacts_posted_while_the_engine_is_busy_are_all_saved_and_never_a_500(
    sqlite_url: str, redis_url: str, web: str, tmp_path: Path
) -> None:
    Redis.from_url(redis_url).flushdb()
    engine = create_db_engine(sqlite_url)
    prepare(engine, contacts=BACKLOG)
    with session_scope(engine) as session:
        _, key = create_api_key(session, name="Shop")
    unmatched = select(func.count()).select_from(Event).where(Event.processed_at.is_(None))  # type: ignore[union-attr]
    statuses: list[int] = []
    slowest = 0.0
    took: list[float] = []

    def post(i: int) -> None:
        nonlocal slowest
        with httpx.Client(base_url=web, headers={"Authorization": f"Bearer {key}"}) as client:
            while True:
                started = time.monotonic()
                response = client.post(
                    "/api/v1/contacts", json={"email": f"load{i}@shop.example"}, timeout=60
                )
                slowest = max(slowest, time.monotonic() - started)
                took.append(time.monotonic() - started)
                statuses.append(response.status_code)
                if response.status_code != 503:
                    return
                time.sleep(float(response.headers["Retry-After"]))

    with running_workers(sqlite_url, redis_url, tmp_path) as workers:
        workers.env["PARCOURS_ENGINE_CHUNK_SIZE"] = "2000"  # long write transactions
        workers.start(1)
        wait_until(lambda: count(engine, unmatched) < BACKLOG, "the engine to start")
        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(post, range(POSTS)))
        busy_while_posting = count(engine, unmatched) > 0
        wait_until(lambda: count(engine, unmatched) == 0, "the backlog to be matched")

    assert not [s for s in statuses if s >= 500 and s != 503]
    posted = select(func.count()).select_from(Contact).where(Contact.email.like("load%"))  # type: ignore[attr-defined]
    assert count(engine, posted) == POSTS
    took.sort()
    print(f"\np50 {took[len(took) // 2]:.3f} p90 {took[int(len(took) * 0.9)]:.3f}")
    print(f"\nslowest write {slowest:.2f} s, 503s {statuses.count(503)}, busy {busy_while_posting}")
    engine.dispose()
