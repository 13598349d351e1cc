"""Sessions live on the server: ending one makes a copied cookie worthless."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.models import User
from app.services.account.users import set_active
from tests.fixtures.web import PASSWORD, Browser, another_browser, csrf_from, log_in


def _second_browser(client: TestClient, user: User) -> TestClient:
    other = another_browser(client)
    assert log_in(other, user.email, PASSWORD)[0] == 303
    return other


def _copy_of(client: TestClient) -> TestClient:
    thief = another_browser(client, "203.0.113.9")
    thief.cookies.set("parcours_session", client.cookies["parcours_session"])
    return thief


def test_a_copied_cookie_stops_working_after_logout(app: FastAPI, logged_in: Browser) -> None:
    thief = _copy_of(logged_in.client)
    assert thief.get("/").status_code == 200

    logged_in.post("/logout")

    assert thief.get("/").status_code == 303
    assert thief.get("/").headers["location"] == "/login?next=/"


def test_log_out_everywhere_ends_every_session_of_the_user(
    app: FastAPI, logged_in: Browser, user: User
) -> None:
    other = _second_browser(logged_in.client, user)
    assert "logged in on 2 browsers" in logged_in.client.get("/settings").text

    response = logged_in.post("/logout/everywhere")

    assert response.headers["location"] == "/login"
    assert logged_in.client.get("/").status_code == 303
    assert other.get("/").status_code == 303


def test_a_changed_password_ends_the_other_sessions_but_not_this_one(
    app: FastAPI, logged_in: Browser, user: User
) -> None:
    other = _second_browser(logged_in.client, user)

    response = logged_in.post(
        "/settings/password",
        {"current_password": PASSWORD, "new_password": "a brand new secret"},
    )

    assert response.status_code == 200
    assert "Every other browser" in response.text
    assert logged_in.client.get("/").status_code == 200
    assert other.get("/").status_code == 303
    fresh = another_browser(logged_in.client)
    assert log_in(fresh, user.email, PASSWORD)[0] == 401
    assert log_in(fresh, user.email, "a brand new secret")[0] == 303


def test_a_wrong_current_password_changes_nothing(app: FastAPI, logged_in: Browser) -> None:
    response = logged_in.post(
        "/settings/password", {"current_password": "not it", "new_password": "a brand new one"}
    )

    assert response.status_code == 422
    assert "current password is not right" in response.text
    assert log_in(another_browser(logged_in.client), "marie@shop.example", PASSWORD)[0] == 303


def test_a_deactivated_user_is_logged_out_at_once(
    app: FastAPI, logged_in: Browser, user: User, session: Session
) -> None:
    admin_id = user.id
    assert admin_id is not None
    colleague = _colleague(session)
    browser = _second_browser(logged_in.client, colleague)
    assert browser.get("/").status_code == 200

    assert colleague.id is not None
    set_active(session, colleague.id, active=False, acting_user_id=admin_id)
    session.commit()

    assert browser.get("/").status_code == 303


def test_a_cookie_from_before_login_grants_nothing(app: FastAPI, client: TestClient) -> None:
    # A session cookie that only carries a CSRF token (any visitor gets one) is no login.
    page = client.get("/login")
    assert csrf_from(page.text)
    assert client.get("/settings").status_code == 303


def _colleague(session: Session) -> User:
    from app.services.account.users import create_user

    colleague = create_user(session, email="paul@shop.example", password=PASSWORD, name="Paul")
    session.commit()
    return colleague


def test_sessions_past_their_age_are_cleared_at_the_next_login(
    app: FastAPI, logged_in: Browser, user: User, session: Session
) -> None:
    from datetime import timedelta

    from sqlmodel import func, select

    from app.models import UserSession

    stale = session.exec(select(UserSession)).one()
    stale.created_at -= timedelta(seconds=app.state.settings.session_max_age_seconds + 60)
    session.add(stale)
    session.commit()
    assert logged_in.client.get("/").status_code == 303  # too old to count

    assert log_in(another_browser(logged_in.client), user.email, PASSWORD)[0] == 303

    assert session.exec(select(func.count()).select_from(UserSession)).one() == 1
