"""Migrations run up and down on every backend, and match the models exactly."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlmodel import SQLModel

import app.models  # noqa: F401
from app.db import create_db_engine
from app.migrate import downgrade, upgrade
from tests.conftest import BACKENDS, new_database_url


@pytest.mark.parametrize("backend", BACKENDS)
def test_migrations_go_up_down_and_up_again_and_match_the_models(
    backend: str, tmp_path: Path
) -> None:
    url, pg = new_database_url(backend, tmp_path)
    engine = create_db_engine(url)
    try:
        upgrade(url)
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
        assert diff == [], "models and migrations differ: write a migration"
        assert set(SQLModel.metadata.tables) <= set(inspect(engine).get_table_names())

        downgrade(url)
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}

        upgrade(url)
        assert set(SQLModel.metadata.tables) <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
        if pg is not None:
            pg.drop()
