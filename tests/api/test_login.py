"""Logging into the UI, and what a visitor without a session may see."""

from __future__ import annotations

from fastapi.testclient import TestClient

from app.models import User
from tests.fixtures.web import PASSWORD, Browser, csrf_from, log_in


def test_right_password_logs_in_and_opens_the_home_page(client: TestClient, user: User) -> None:
    status, location = log_in(client, user.email, PASSWORD)

    assert (status, location) == (303, "/")
    home = client.get("/")
    assert home.status_code == 200
    assert "Good to see you, Marie" in home.text


def test_email_is_matched_whatever_its_case(client: TestClient, user: User) -> None:
    assert log_in(client, "  MARIE@Shop.Example ", PASSWORD)[0] == 303


def test_wrong_password_is_refused_in_plain_words(client: TestClient, user: User) -> None:
    page = client.get("/login")
    response = client.post(
        "/login",
        data={"email": user.email, "password": "not it", "csrf_token": csrf_from(page.text)},
    )

    assert response.status_code == 401
    assert "Wrong email or password." in response.text
    assert client.get("/").status_code == 303


def test_unknown_email_gets_the_same_answer_as_a_wrong_password(
    client: TestClient, user: User
) -> None:
    status, _ = log_in(client, "nobody@shop.example", PASSWORD)
    assert status == 401


def test_deactivated_user_cannot_log_in(client: TestClient, user: User, session) -> None:  # type: ignore[no-untyped-def]
    user.is_active = False
    session.add(user)
    session.commit()

    assert log_in(client, user.email, PASSWORD)[0] == 401


def test_pages_without_a_session_redirect_to_login_and_back(client: TestClient) -> None:
    for path in ["/", "/scenarios", "/contacts", "/lists", "/messages", "/mailbox", "/settings"]:
        response = client.get(path)
        assert response.status_code == 303, path
        assert response.headers["location"] == f"/login?next={path}"


def test_htmx_request_without_a_session_is_told_to_redirect(client: TestClient) -> None:
    response = client.get("/settings", headers={"HX-Request": "true"})

    assert response.headers["HX-Redirect"] == "/login?next=/settings"


def test_login_goes_back_to_the_page_asked_for_but_never_off_site(
    client: TestClient, user: User
) -> None:
    page = client.get("/login?next=/lists")
    token = csrf_from(page.text)
    ok = client.post(
        "/login",
        data={"email": user.email, "password": PASSWORD, "csrf_token": token, "next": "/lists"},
    )
    assert ok.headers["location"] == "/lists"

    client.post("/logout", data={"csrf_token": csrf_from(client.get("/settings").text)})
    token = csrf_from(client.get("/login").text)
    evil = client.post(
        "/login",
        data={
            "email": user.email,
            "password": PASSWORD,
            "csrf_token": token,
            "next": "//evil.example/x",
        },
    )
    assert evil.headers["location"] == "/"


def test_logout_ends_the_session(logged_in: Browser) -> None:
    response = logged_in.post("/logout")

    assert response.status_code == 303
    assert logged_in.client.get("/").status_code == 303


def test_login_form_without_csrf_token_is_refused(client: TestClient, user: User) -> None:
    client.get("/login")
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})

    assert response.status_code == 403
    assert "Reload the page" in response.text


def test_health_needs_no_login_and_reports_its_parts(client: TestClient) -> None:
    response = client.get("/health")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "redis": "ok"}


def test_unknown_page_gets_a_friendly_404(logged_in: Browser) -> None:
    response = logged_in.client.get("/no-such-page")

    assert response.status_code == 404
    assert "This page does not exist" in response.text
