"""Test harness: real SQLite and PostgreSQL, real Redis, a real SMTP sink, a real browser.

- ``PARCOURS_TEST_POSTGRES_URL`` set: every database test also runs on PostgreSQL, in a
  database created for this run and dropped after it.
- ``PARCOURS_TEST_REDIS_URL`` set: that Redis is used (and flushed per test); otherwise an
  embedded one is started for the run.
Each test gets a session inside a transaction that is rolled back, so tests never see each
other's rows; tests that need real commits (the worker, the browser) use ``committed_engine``.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from sqlalchemy import Engine
from sqlmodel import Session, SQLModel

from app.config import Settings
from app.db import create_db_engine
from app.migrate import upgrade
from app.security import use_password_hash
from tests.databases import PostgresDatabase

# Real argon2id, at a test's cost rather than a server's (as Django's tests do).
use_password_hash(PasswordHash((Argon2Hasher(time_cost=1, memory_cost=1024, parallelism=1),)))

pytest_plugins = ["tests.fixtures.web", "tests.fixtures.smtp", "tests.fixtures.browser"]

POSTGRES_URL = os.environ.get("PARCOURS_TEST_POSTGRES_URL", "")
REDIS_URL = os.environ.get("PARCOURS_TEST_REDIS_URL", "")
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Browser tests last: Playwright's sync API keeps an event loop running in the main
    # thread for the session, and async tests cannot start their own after it. Under
    # pytest-xdist (`make test` runs two workers, `--dist loadgroup`) they are one group, so
    # one worker runs them all, after everything else it was given.
    items.sort(key=lambda item: "e2e" in item.keywords)
    for item in items:
        if "e2e" in item.keywords:
            item.add_marker(pytest.mark.xdist_group("browser"))
    if POSTGRES_URL:
        return
    skip = pytest.mark.skip(reason="PARCOURS_TEST_POSTGRES_URL is not set")
    for item in items:
        if "postgresql" in item.keywords:
            item.add_marker(skip)


def new_database_url(backend: str, folder: Path) -> tuple[str, PostgresDatabase | None]:
    if backend == "sqlite":
        return f"sqlite:///{(folder / f'{uuid.uuid4().hex[:8]}.db').as_posix()}", None
    database = PostgresDatabase(POSTGRES_URL)
    return database.create(), database


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A migrated database for the whole run, one per backend."""
    url, pg = new_database_url(request.param, tmp_path_factory.mktemp("db"))
    upgrade(url)
    yield url
    if pg is not None:
        pg.drop()


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = create_db_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session whose work is rolled back after the test (commits become savepoints)."""
    connection = engine.connect()
    transaction = connection.begin()
    with Session(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    ) as s:
        yield s
    transaction.rollback()
    connection.close()


@pytest.fixture
def committed_engine(engine: Engine) -> Iterator[Engine]:
    """For tests whose other processes or threads must see the rows: emptied afterwards."""
    yield engine
    with engine.begin() as conn:
        for table in reversed(SQLModel.metadata.sorted_tables):
            conn.execute(table.delete())


def worker_redis_url(url: str) -> str:
    """The Redis database of this pytest-xdist worker: the given one for the first, the next
    ones for the others (tests flush theirs, so two workers must not share one)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not worker.startswith("gw"):
        return url
    parts = urlsplit(url)
    base = int(parts.path.strip("/") or 0)
    return urlunsplit(parts._replace(path=f"/{(base + int(worker[2:])) % 16}"))


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if REDIS_URL:
        yield worker_redis_url(REDIS_URL)
        return
    from app.redis import EmbeddedRedis

    embedded = EmbeddedRedis(tmp_path_factory.mktemp("redis"))
    yield embedded.start()
    embedded.stop()


@pytest.fixture
async def redis(redis_url: str):  # type: ignore[no-untyped-def]
    from redis.asyncio import Redis

    client = Redis.from_url(redis_url)
    await client.flushdb()
    yield client
    await client.aclose()


@pytest.fixture
def settings(database_url: str, redis_url: str, tmp_path: Path) -> Settings:
    return Settings(
        env="test",
        data_dir=tmp_path,
        database_url=database_url,
        redis_url=redis_url,
        secret_key="test-secret-" + "x" * 40,
        base_url="http://testserver",
    )
