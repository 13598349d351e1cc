"""Every benchmark runs on SQLite, and on PostgreSQL when a server is named."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from typing import Any


def on_each_database(run: Callable[[str, str], None], name: str) -> None:
    """``run(label, url)`` on a fresh SQLite file, then on a throw-away PostgreSQL database
    when PARCOURS_BENCH_POSTGRES_URL (or PARCOURS_TEST_POSTGRES_URL) is set."""
    with tempfile.TemporaryDirectory() as folder:
        run("SQLite", f"sqlite:///{folder}/{name}.db")
    server = os.environ.get("PARCOURS_BENCH_POSTGRES_URL") or os.environ.get(
        "PARCOURS_TEST_POSTGRES_URL"
    )
    if not server:
        print("PostgreSQL: skipped (set PARCOURS_BENCH_POSTGRES_URL)")
        return
    from tests.databases import PostgresDatabase

    database = PostgresDatabase(server)
    try:
        run("PostgreSQL", database.create())
    finally:
        database.drop()


# For a benchmark that makes its databases itself (several per run): a factory answering a
# fresh database's URL and how to throw it away.
def sqlite_url() -> tuple[str, Any]:
    folder = tempfile.mkdtemp()
    return f"sqlite:///{folder}/bench.db", lambda: None


def postgres_url(server: str) -> Any:
    def make() -> tuple[str, Any]:
        from tests.databases import PostgresDatabase

        database = PostgresDatabase(server)
        return database.create(), database.drop

    return make
