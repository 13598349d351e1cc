"""SQLite runs in WAL mode, waits for locks, and starts write transactions immediately."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import text

from app.db import create_db_engine, read_only
from app.sqlite_turns import background


def test_sqlite_uses_wal_busy_timeout_and_foreign_keys(tmp_path: Path) -> None:
    engine = create_db_engine(f"sqlite:///{tmp_path}/x.db")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 10_000
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    engine.dispose()


def test_concurrent_writers_queue_instead_of_failing(tmp_path: Path) -> None:
    engine = create_db_engine(f"sqlite:///{tmp_path}/x.db")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE counter (n INTEGER NOT NULL)"))
        conn.execute(text("INSERT INTO counter VALUES (0)"))
    errors: list[BaseException] = []

    def bump() -> None:
        try:
            for _ in range(25):
                with engine.begin() as conn:
                    # Read-then-write: with deferred transactions this is where SQLite
                    # answers "database is locked" to one of two concurrent writers.
                    n = conn.execute(text("SELECT n FROM counter")).scalar_one()
                    conn.execute(text("UPDATE counter SET n = :n"), {"n": n + 1})
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=bump) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    with read_only(engine).connect() as conn:
        assert conn.execute(text("SELECT n FROM counter")).scalar_one() == 100
    engine.dispose()


def test_a_background_writer_lets_a_waiting_web_write_in_first(tmp_path: Path) -> None:
    import asyncio
    import time

    from app.sqlite_turns import let_web_writers_in, turns_file, writers_waiting

    web = create_db_engine(f"sqlite:///{tmp_path}/x.db")
    worker = background(web)
    turns = turns_file(web)
    assert turns is not None
    with web.begin() as conn:
        conn.execute(text("CREATE TABLE log (who TEXT NOT NULL)"))
    worker_tx = worker.connect()
    worker_tx.begin()  # the engine holds the write lock, mid-chunk
    worker_tx.execute(text("INSERT INTO log VALUES ('engine 1')"))

    def web_write() -> None:
        with web.begin() as conn:
            conn.execute(text("INSERT INTO log VALUES ('web')"))

    thread = threading.Thread(target=web_write)
    thread.start()
    deadline = time.monotonic() + 5
    while not writers_waiting(turns):
        assert time.monotonic() < deadline, "the web write never said it was waiting"
        time.sleep(0.01)
    worker_tx.commit()
    asyncio.run(let_web_writers_in(turns))  # between two chunks
    with worker.begin() as conn:
        conn.execute(text("INSERT INTO log VALUES ('engine 2')"))
    thread.join()
    worker_tx.close()

    with web.connect() as conn:
        order = conn.execute(text("SELECT who FROM log ORDER BY rowid")).scalars().all()
    assert order == ["engine 1", "web", "engine 2"]
    assert not writers_waiting(turns)
    web.dispose()


def test_a_write_that_waited_out_the_busy_timeout_is_a_503_to_retry(
    tmp_path: Path, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fastapi.testclient import TestClient

    import app.db
    from app.config import Settings
    from app.db import session_scope
    from app.main import create_app
    from app.migrate import upgrade
    from app.services.account.api_keys import create_api_key

    url = f"sqlite:///{tmp_path}/busy.db"
    upgrade(url)
    monkeypatch.setattr(app.db, "SQLITE_BUSY_TIMEOUT_MS", 200)
    settings = Settings(env="test", data_dir=tmp_path, database_url=url, redis_url=redis_url,
                        secret_key="busy-secret-" + "b" * 40)  # fmt: skip
    web = create_app(settings)
    with session_scope(web.state.engine) as session:
        _, key = create_api_key(session, name="Shop")
    holder = background(create_db_engine(url)).connect()
    holder.execute(text("SELECT 1"))  # begins IMMEDIATE: a writer that will not let go

    with TestClient(web) as client:
        response = client.post(
            "/api/v1/contacts",
            json={"email": "busy@shop.example"},
            headers={"Authorization": f"Bearer {key}"},
        )

    assert response.status_code == 503
    assert response.headers["Retry-After"] == "2"
    assert "nothing was saved" in response.json()["detail"]
    holder.rollback()
    holder.close()
    with web.state.engine.connect() as conn:
        saved = conn.execute(text("SELECT count(*) FROM contacts")).scalar_one()
    assert saved == 0
