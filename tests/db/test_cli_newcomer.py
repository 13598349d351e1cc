"""The `parcours` command a newcomer needs: reset a password, and `parcours dev` on the port
they choose, telling them the address it really listens on."""

from __future__ import annotations

import os
import pty
import select as io_select
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import Session, select
from typer.testing import CliRunner

from app.cli import cli
from app.config import get_settings
from app.db import create_db_engine
from app.models import User, UserSession
from app.security import verify_password
from tests.conftest import new_database_url
from tests.fixtures.web import free_port

runner = CliRunner()
OLD = "the first password"
NEW = "a brand new password"
ROOT = Path(__file__).parents[2]


@pytest.fixture
def fresh_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url, _ = new_database_url("sqlite", tmp_path)
    monkeypatch.setenv("PARCOURS_DATABASE_URL", url)
    monkeypatch.setenv("PARCOURS_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    assert runner.invoke(cli, ["migrate"]).exit_code == 0
    created = runner.invoke(cli, ["users", "create", "ana@shop.example", "--password", OLD])
    assert created.exit_code == 0, created.output
    yield url
    get_settings.cache_clear()


def stored_user(url: str) -> User:
    with Session(create_db_engine(url)) as session:
        return session.exec(select(User)).one()


def test_users_password_reads_the_new_one_from_stdin_and_logs_them_out(fresh_url: str) -> None:
    with Session(create_db_engine(fresh_url)) as session:
        session.add(UserSession(id="stolen", user_id=stored_user(fresh_url).id or 0))
        session.commit()

    result = runner.invoke(cli, ["users", "password", "Ana@Shop.example"], input=NEW + "\n")

    assert result.exit_code == 0, result.output
    assert "Password changed for ana@shop.example" in result.output
    user = stored_user(fresh_url)
    assert verify_password(NEW, user.password_hash)
    assert not verify_password(OLD, user.password_hash)
    with Session(create_db_engine(fresh_url)) as session:
        assert session.exec(select(UserSession)).all() == []


def test_users_password_for_an_unknown_email_says_so_and_fails(fresh_url: str) -> None:
    result = runner.invoke(cli, ["users", "password", "bob@shop.example"], input=NEW + "\n")

    assert result.exit_code == 1
    assert "There is no user with the email bob@shop.example. Nothing was changed." in (
        result.output
    )


@pytest.mark.parametrize("typed", ["short", ""])
def test_users_password_refuses_a_short_one_and_keeps_the_old(fresh_url: str, typed: str) -> None:
    result = runner.invoke(cli, ["users", "password", "ana@shop.example"], input=typed + "\n")

    assert result.exit_code == 1
    assert "at least 10 characters. Nothing was changed." in result.output
    assert verify_password(OLD, stored_user(fresh_url).password_hash)


def run_at_a_terminal(args: list[str], typed: list[str]) -> tuple[int, str]:
    """Runs ``python -m app.cli ARGS`` with a real terminal, typing each line at its prompt."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "app.cli", *args],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        cwd=ROOT,
        env=dict(os.environ),
    )
    os.close(follower)
    screen = b""
    pending = list(typed)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        ready, _, _ = io_select.select([leader], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(leader, 4096)
            except OSError:
                break
            if not chunk:
                break
            screen += chunk
            # The prompt's last space is written once echo is off (getpass): type then.
            if pending and screen.endswith(b": "):
                os.write(leader, pending.pop(0).encode() + b"\r")
        elif proc.poll() is not None:
            break
    os.close(leader)
    return proc.wait(timeout=10), screen.decode(errors="replace")


def test_at_a_terminal_it_asks_twice_without_showing_the_password(fresh_url: str) -> None:
    code, screen = run_at_a_terminal(["users", "password", "ana@shop.example"], [NEW, NEW])

    assert code == 0, screen
    assert "New password:" in screen
    assert "Again, to check:" in screen
    assert NEW not in screen, "the password is never echoed"
    assert verify_password(NEW, stored_user(fresh_url).password_hash)


def test_at_a_terminal_two_different_passwords_change_nothing(fresh_url: str) -> None:
    code, screen = run_at_a_terminal(
        ["users", "password", "ana@shop.example"], [NEW, "another new password"]
    )

    assert code == 1
    assert "The two passwords differ; nothing was changed." in screen
    assert verify_password(OLD, stored_user(fresh_url).password_hash)


def test_dev_listens_on_the_port_it_is_given_and_says_where(tmp_path: Path, redis_url: str) -> None:
    port = free_port()
    env = {
        **os.environ,
        "PARCOURS_DATA_DIR": str(tmp_path),
        "PARCOURS_DATABASE_URL": f"sqlite:///{(tmp_path / 'dev.db').as_posix()}",
        "PARCOURS_REDIS_URL": redis_url,
    }
    for name in ("PARCOURS_BASE_URL", "PARCOURS_HOST", "PARCOURS_PORT"):
        env.pop(name, None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "dev", "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )
    try:
        address = f"http://127.0.0.1:{port}"
        health = wait_for(address + "/health")
        proc.send_signal(signal.SIGTERM)
        output = proc.communicate(timeout=30)[0].decode()
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)

    assert health == 200
    assert f"Parcours is running at {address}\n" in output
    assert "links in emails point to" not in output, "BASE_URL followed the port"
    assert "Admin login: admin@parcours.local" in output
    assert "8000" not in output


def wait_for(url: str, seconds: float = 60) -> int:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                return int(answer.status)
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)
