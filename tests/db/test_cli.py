"""The `parcours` command against a fresh database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import Session, select
from typer.testing import CliRunner

from app.cli import cli
from app.config import get_settings
from app.db import create_db_engine
from app.models import ApiKey, Contact, User
from app.security import hash_api_key, verify_password
from tests.conftest import new_database_url

runner = CliRunner()


@pytest.fixture
def fresh_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url, _ = new_database_url("sqlite", tmp_path)
    monkeypatch.setenv("PARCOURS_DATABASE_URL", url)
    monkeypatch.setenv("PARCOURS_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    assert runner.invoke(cli, ["migrate"]).exit_code == 0
    yield url
    get_settings.cache_clear()


def test_apikey_create_prints_the_key_once_and_stores_its_hash(fresh_url: str) -> None:
    result = runner.invoke(cli, ["apikey", "create", "Online shop"])

    assert result.exit_code == 0
    plain = result.stdout.strip()
    with Session(create_db_engine(fresh_url)) as session:
        key = session.exec(select(ApiKey)).one()
    assert (key.name, key.key_hash) == ("Online shop", hash_api_key(plain))


def test_users_create_adds_someone_who_can_log_in(fresh_url: str) -> None:
    result = runner.invoke(
        cli,
        ["users", "create", "Ana@Shop.example", "--name", "Ana", "--password", "long enough pw"],
    )

    assert result.exit_code == 0, result.output
    with Session(create_db_engine(fresh_url)) as session:
        user = session.exec(select(User)).one()
    assert user.email == "ana@shop.example"
    assert verify_password("long enough pw", user.password_hash)


def test_users_create_refuses_a_short_password_in_plain_words(fresh_url: str) -> None:
    result = runner.invoke(cli, ["users", "create", "ana@shop.example", "--password", "short"])

    assert result.exit_code == 1
    assert "at least 10 characters" in result.output


def test_seed_demo_fills_an_empty_installation_once(fresh_url: str, tmp_path: Path) -> None:
    first = runner.invoke(cli, ["seed-demo"])
    second = runner.invoke(cli, ["seed-demo"])

    assert "Admin login: admin@parcours.local" in first.stdout
    assert "Users exist already" in second.stdout
    assert (tmp_path / "first-login.txt").stat().st_mode & 0o077 == 0
    with Session(create_db_engine(fresh_url)) as session:
        assert len(session.exec(select(Contact)).all()) == 40
        assert len(session.exec(select(User)).all()) == 1
