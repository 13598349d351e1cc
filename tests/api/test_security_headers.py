"""Every response carries the security headers: pages, the JSON API, not-found and error pages,
static files and the live-counter stream; HSTS and Secure cookies once served over https."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import Engine
from sqlmodel import Session

from app.clock import utcnow
from app.config import Settings
from app.main import create_app
from app.security_headers import EMAIL_FRAME_POLICY
from app.services.account.users import create_user
from app.services.scenarios.scenarios import create_scenario
from tests.fixtures.web import PASSWORD, Browser, log_in


@pytest.fixture
def settings(database_url: str, redis_url: str, tmp_path: Path) -> Settings:
    # A live stream that ends quickly, so the test client can read it whole.
    return Settings(
        env="test",
        data_dir=tmp_path,
        database_url=database_url,
        redis_url=redis_url,
        secret_key="test-secret-" + "x" * 40,
        base_url="http://testserver",
        live_stream_seconds=0.3,
    )


def directives(response: Response) -> dict[str, str]:
    policy = response.headers["content-security-policy"]
    parts = [part.strip().split(" ", 1) for part in policy.split(";") if part.strip()]
    return {part[0]: part[1] if len(part) > 1 else "" for part in parts}


def assert_protected(response: Response) -> None:
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "strict-origin-when-cross-origin"
    csp = directives(response)
    assert csp["script-src"] == "'self'", "scripts from this server only, never inline"
    assert csp["frame-ancestors"] == "'none'"
    assert csp["object-src"] == "'none'"
    assert csp["base-uri"] == "'self'"
    assert csp["form-action"] == "'self'"
    assert "strict-transport-security" not in response.headers  # plain http here


def test_pages_and_their_fragments_carry_the_headers(logged_in: Browser) -> None:
    page = logged_in.client.get("/contacts")
    fragment = logged_in.client.get("/contacts", headers={"HX-Request": "true"})

    for response in (page, fragment):
        assert response.status_code == 200
        assert_protected(response)
    assert "'unsafe-inline'" not in directives(page)["style-src"]


def test_the_login_page_and_a_redirect_to_it_carry_the_headers(client: TestClient) -> None:
    assert_protected(client.get("/login"))
    redirect = client.get("/contacts")
    assert redirect.status_code == 303
    assert_protected(redirect)


def test_the_json_api_carries_the_headers(client: TestClient, api_key: str) -> None:
    ok = client.get("/api/v1/whoami", headers={"Authorization": f"Bearer {api_key}"})
    refused = client.get("/api/v1/whoami", headers={"Authorization": "Bearer nope"})
    invalid = client.post(
        "/api/v1/contacts", headers={"Authorization": f"Bearer {api_key}"}, json={"email": 3}
    )

    assert (ok.status_code, refused.status_code, invalid.status_code) == (200, 401, 422)
    for response in (ok, refused, invalid):
        assert_protected(response)


def test_not_found_pages_and_api_answers_carry_the_headers(
    logged_in: Browser, api_key: str
) -> None:
    page = logged_in.client.get("/no-such-page")
    api = logged_in.client.get(
        "/api/v1/contacts/999999", headers={"Authorization": f"Bearer {api_key}"}
    )

    assert (page.status_code, api.status_code) == (404, 404)
    assert_protected(page)
    assert_protected(api)


def test_static_files_carry_the_headers(client: TestClient) -> None:
    for path in ("/static/css/app.css", "/static/js/page.js", "/static/js/parcours-track.js"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert_protected(response)


@pytest.fixture
def committed_login(
    settings: Settings, committed_engine: Engine
) -> Iterator[tuple[TestClient, int]]:
    """Logged in for real: the stream reads the database on its own connections, which must
    see the user (and must not wait behind a test transaction holding SQLite's write lock)."""
    with Session(committed_engine) as session:
        create_user(session, email="stream@shop.example", password=PASSWORD, name="Stream")
        scenario = create_scenario(session, name="Welcome", graph=None, now=utcnow())
        session.commit()
        assert scenario.id is not None
        scenario_id = scenario.id
    with TestClient(create_app(settings), follow_redirects=False) as client:
        status, _ = log_in(client, "stream@shop.example", PASSWORD)
        assert status == 303
        yield client, scenario_id


def test_the_live_counter_stream_carries_the_headers(
    committed_login: tuple[TestClient, int],
) -> None:
    client, scenario_id = committed_login
    with client.stream("GET", f"/scenarios/{scenario_id}/live") as stream:
        assert stream.status_code == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        assert_protected(stream)
        assert "event: counters" in stream.read().decode()


@pytest.fixture
def crashing_app(app: FastAPI) -> FastAPI:
    def boom() -> None:
        raise RuntimeError("a bug")

    app.add_api_route("/boom", boom)
    app.add_api_route("/api/v1/boom", boom)
    return app


def test_the_last_resort_error_page_carries_the_headers(crashing_app: FastAPI) -> None:
    with TestClient(crashing_app, raise_server_exceptions=False) as client:
        page = client.get("/boom")
        api = client.get("/api/v1/boom")

    assert (page.status_code, api.status_code) == (500, 500)
    assert "Something went wrong on our side" in page.text
    assert_protected(page)
    assert_protected(api)


def test_pages_showing_an_email_let_its_inline_styles_through(logged_in: Browser) -> None:
    editor = logged_in.client.get("/messages/new")

    assert editor.status_code == 200
    assert editor.headers["content-security-policy"] == EMAIL_FRAME_POLICY
    assert_protected(editor)
    assert "'unsafe-inline'" in directives(editor)["style-src"]


def test_the_api_reference_page_loads_swagger_ui_from_this_server(client: TestClient) -> None:
    docs = client.get("/docs")

    assert docs.status_code == 200
    csp = directives(docs)
    assert csp["script-src"] == "'self'"
    assert csp["frame-ancestors"] == "'none'"


@pytest.fixture
def https_client(settings: Settings) -> Iterator[TestClient]:
    https = settings.model_copy(update={"base_url": "https://parcours.example.com"})
    with TestClient(create_app(https), base_url="https://testserver") as client:
        yield client


def test_over_https_hsts_is_sent_and_the_session_cookie_is_secure(
    https_client: TestClient,
) -> None:
    page = https_client.get("/login")

    assert page.headers["strict-transport-security"] == "max-age=31536000"
    assert "secure" in page.headers["set-cookie"].lower()
    static = https_client.get("/static/css/app.css")
    assert static.headers["strict-transport-security"] == "max-age=31536000"


def test_over_plain_http_the_session_cookie_is_not_marked_secure(client: TestClient) -> None:
    page = client.get("/login")

    assert "set-cookie" in page.headers
    assert "secure" not in page.headers["set-cookie"].lower()
