"""Throw-away PostgreSQL databases for the tests and the benchmarks."""

from __future__ import annotations

import uuid

from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from app.config import normalize_database_url
from app.db import create_db_engine


class PostgresDatabase:
    """A throw-away database on the PostgreSQL server named by PARCOURS_TEST_POSTGRES_URL."""

    def __init__(self, server_url: str) -> None:
        self.server_url = normalize_database_url(server_url)
        self.name = f"parcours_test_{uuid.uuid4().hex[:10]}"
        self.url = (
            make_url(self.server_url).set(database=self.name).render_as_string(hide_password=False)
        )

    def _admin(self) -> Engine:
        return create_db_engine(self.server_url).execution_options(isolation_level="AUTOCOMMIT")

    def create(self) -> str:
        admin = self._admin()
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{self.name}"'))
        admin.dispose()
        return self.url

    def drop(self) -> None:
        admin = self._admin()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
        admin.dispose()
