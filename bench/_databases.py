"""Every benchmark runs on SQLite, and on PostgreSQL when a server is named."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable


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
