"""Database engine and sessions for SQLite (default) and PostgreSQL, from the same code.

SQLite runs in WAL mode with a busy timeout, and write transactions start with
``BEGIN IMMEDIATE`` so two writers queue on the lock instead of failing half-way with
"database is locked". Read-only work can ask for a deferred transaction so readers never
wait for a writer.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import BigInteger, DateTime, Engine, Integer, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.types import TypeDecorator
from sqlmodel import Session

from app.sqlite_turns import BACKGROUND, turns_file, waiting_for_write

SQLITE_BUSY_TIMEOUT_MS = 10_000
READ_ONLY = "parcours_read_only"

# BIGINT ids on PostgreSQL; on SQLite only "INTEGER PRIMARY KEY" auto-increments.
BigIntId = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """Stores naive UTC, hands back aware UTC: SQLite keeps no time zone, PostgreSQL would."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column; pass an aware datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


def _json_loads(data: bytes | str) -> Any:
    # Most JSON the engine reads back is an empty object (event properties, contexts).
    if data in (b"{}", "{}"):
        return {}
    return json.loads(data)


def create_db_engine(url: str, *, echo: bool = False) -> Engine:
    sa_url = make_url(url)
    if sa_url.get_backend_name() != "sqlite":
        return create_engine(
            url,
            echo=echo,
            pool_pre_ping=True,
            pool_size=10,
            max_overflow=20,
            json_deserializer=_json_loads,
        )

    if sa_url.database and sa_url.database != ":memory:":
        Path(sa_url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url,
        echo=echo,
        connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
    )
    _configure_sqlite(engine)
    return engine


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()
        _register_sqlite_functions(dbapi_connection)

    turns = turns_file(engine)

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        options = connection.get_execution_options()
        if options.get(READ_ONLY, False):
            connection.exec_driver_sql("BEGIN DEFERRED")
        elif options.get(BACKGROUND, False):
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:  # a web write: background writers let it in between their transactions
            with waiting_for_write(turns):
                connection.exec_driver_sql("BEGIN IMMEDIATE")


def _register_sqlite_functions(dbapi_connection: Any) -> None:
    """The condition language's value rules, callable from SQL (PostgreSQL gets them from a
    migration). SQLite's own lower() folds ASCII only and it has no regular expressions."""
    from app.graph.sql_functions import SQLITE_FUNCTIONS

    for name, arity, function in SQLITE_FUNCTIONS:
        dbapi_connection.create_function(name, arity, function, deterministic=True)


def is_database_locked(exc: BaseException) -> bool:
    """SQLite's "database is locked": the write lock stayed taken for the whole busy timeout."""
    return isinstance(exc, OperationalError) and "database is locked" in str(exc.orig)


def read_only(engine: Engine) -> Engine:
    """The same engine, starting deferred (shared) transactions on SQLite."""
    return engine.execution_options(**{READ_ONLY: True})


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A unit of work outside a request (CLI, worker): commits on success, rolls back on error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
