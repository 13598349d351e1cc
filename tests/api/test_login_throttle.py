"""Wrong passwords are throttled per account and per address, without locking the owner out."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.clock import FrozenClock
from app.models import User
from app.services.account.login_throttle import ACCOUNT, ADDRESS, DEVICE
from tests.fixtures.web import PASSWORD, another_browser, csrf_from


@pytest.fixture
def clock(app: FastAPI) -> FrozenClock:
    clock = FrozenClock()
    app.state.clock = clock
    return clock


@pytest.fixture
def attacker(client: TestClient) -> TestClient:
    return another_browser(client, "203.0.113.7")


def _try(client: TestClient, email: str, password: str):  # type: ignore[no-untyped-def]
    token = csrf_from(client.get("/login").text)
    return client.post(
        "/login", data={"email": email, "password": password, "csrf_token": token, "next": "/"}
    )


def _fail(client: TestClient, email: str, times: int) -> None:
    for _ in range(times):
        assert _try(client, email, "guess").status_code == 401


def test_after_a_few_wrong_passwords_the_account_waits_longer_each_time(
    attacker: TestClient, user: User, clock: FrozenClock
) -> None:
    _fail(attacker, user.email, ACCOUNT.free + 1)

    refused = _try(attacker, user.email, "guess")
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "1"
    assert "Too many failed attempts" in refused.text
    assert "wait 1 second before trying again" in refused.text

    clock.advance(seconds=1)
    _fail(attacker, user.email, 1)
    assert _try(attacker, user.email, "guess").headers["Retry-After"] == "2"
    clock.advance(seconds=2)
    _fail(attacker, user.email, 1)
    assert _try(attacker, user.email, "guess").headers["Retry-After"] == "4"


def test_a_throttled_attempt_is_refused_even_with_the_right_password(
    attacker: TestClient, user: User, clock: FrozenClock
) -> None:
    _fail(attacker, user.email, ACCOUNT.free + 1)

    assert _try(attacker, user.email, PASSWORD).status_code == 429


def test_the_lock_never_exceeds_its_cap(
    attacker: TestClient, user: User, clock: FrozenClock
) -> None:
    _fail(attacker, user.email, ACCOUNT.free)
    for _ in range(12):
        clock.advance(seconds=ACCOUNT.cap_seconds)
        _fail(attacker, user.email, 1)

    wait = int(_try(attacker, user.email, "guess").headers["Retry-After"])
    assert wait == ACCOUNT.cap_seconds
    assert "wait 5 minutes" in _try(attacker, user.email, "guess").text


def test_the_owner_logs_in_from_a_known_browser_while_the_account_is_under_attack(
    app: FastAPI, attacker: TestClient, user: User, clock: FrozenClock
) -> None:
    owner = another_browser(attacker, "198.51.100.20")
    assert _try(owner, user.email, PASSWORD).status_code == 303  # the browser is now known
    owner.post("/logout", data={"csrf_token": csrf_from(owner.get("/settings").text)})

    _fail(attacker, user.email, ACCOUNT.free + 1)
    assert _try(attacker, user.email, PASSWORD).status_code == 429

    assert _try(owner, user.email, PASSWORD).status_code == 303


def test_a_new_browser_is_locked_out_only_for_a_short_while(
    app: FastAPI, attacker: TestClient, user: User, clock: FrozenClock
) -> None:
    _fail(attacker, user.email, ACCOUNT.free + 1)
    owner = another_browser(attacker, "198.51.100.21")
    assert _try(owner, user.email, PASSWORD).status_code == 429
    clock.advance(seconds=1)
    assert _try(owner, user.email, PASSWORD).status_code == 303


def test_one_address_guessing_many_accounts_is_throttled(
    attacker: TestClient, user: User, clock: FrozenClock
) -> None:
    for n in range(ADDRESS.free + 1):
        assert _try(attacker, f"someone{n}@shop.example", "guess").status_code == 401

    refused = _try(attacker, "another@shop.example", "guess")
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1


def test_other_addresses_are_not_slowed_by_one_address_guessing(
    app: FastAPI, attacker: TestClient, user: User, clock: FrozenClock
) -> None:
    for n in range(ADDRESS.free + 1):
        _try(attacker, f"someone{n}@shop.example", "guess")

    elsewhere = another_browser(attacker, "198.51.100.30")
    assert _try(elsewhere, user.email, PASSWORD).status_code == 303


def test_a_success_clears_the_account_count(
    attacker: TestClient, user: User, clock: FrozenClock
) -> None:
    _fail(attacker, user.email, ACCOUNT.free)
    assert _try(attacker, user.email, PASSWORD).status_code == 303
    attacker.post("/logout", data={"csrf_token": csrf_from(attacker.get("/settings").text)})

    # A fresh allowance, counted on this (now known) browser.
    _fail(attacker, user.email, DEVICE.free + 1)
    assert _try(attacker, user.email, "guess").status_code == 429


def test_no_password_work_is_spent_on_a_throttled_attempt(
    attacker: TestClient, user: User, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fail(attacker, user.email, ACCOUNT.free + 1)
    verified: list[str] = []
    import app.services.account.users as users

    real = users.verify_password
    monkeypatch.setattr(users, "verify_password", lambda p, h: verified.append(p) or real(p, h))

    assert _try(attacker, user.email, "guess").status_code == 429
    assert verified == []


def test_one_ipv6_block_guessing_many_accounts_is_throttled_as_one_address(
    attacker: TestClient, user: User, clock: FrozenClock
) -> None:
    # A subscriber holds a whole /64: a new address in it for each guess is still one address.
    for n in range(ADDRESS.free + 1):
        guesser = another_browser(attacker, f"2001:db8:1:2::{n + 1:x}")
        assert _try(guesser, f"someone{n}@shop.example", "guess").status_code == 401

    refused = _try(another_browser(attacker, "2001:db8:1:2::ffff"), "x@shop.example", "guess")
    assert refused.status_code == 429


def test_guessing_from_a_shared_address_never_locks_out_a_known_browser_there(
    attacker: TestClient, user: User, clock: FrozenClock
) -> None:
    colleague = another_browser(attacker, "203.0.113.7")  # the same office address
    assert _try(colleague, user.email, PASSWORD).status_code == 303  # now a known browser
    colleague.post("/logout", data={"csrf_token": csrf_from(colleague.get("/settings").text)})

    for n in range(ADDRESS.free + 2):
        _try(attacker, f"someone{n}@shop.example", "guess")
    assert _try(attacker, "another@shop.example", "guess").status_code == 429

    assert _try(colleague, user.email, PASSWORD).status_code == 303


def test_guessing_the_current_password_from_a_stolen_session_is_throttled(
    attacker: TestClient, user: User, clock: FrozenClock
) -> None:
    assert _try(attacker, user.email, PASSWORD).status_code == 303  # a session, stolen
    csrf = csrf_from(attacker.get("/settings").text)

    def change(current: str):  # type: ignore[no-untyped-def]
        data = {"current_password": current, "new_password": "the thief's own", "csrf_token": csrf}
        return attacker.post("/settings/password", data=data)

    statuses = [change("guess").status_code for _ in range(ACCOUNT.free + 1)]

    assert statuses == [422] * (ACCOUNT.free + 1)
    refused = change(PASSWORD)
    assert refused.status_code == 429
    assert "Too many wrong passwords" in refused.text
    assert int(refused.headers["Retry-After"]) >= 1
