"""Every state-changing request from a browser must carry the session's CSRF token."""

from __future__ import annotations

from sqlmodel import Session, select

from app.models import ApiKey
from tests.fixtures.web import Browser


def test_form_post_with_the_token_is_accepted(logged_in: Browser, session: Session) -> None:
    response = logged_in.post("/settings/api-keys", {"name": "Shop"})

    assert response.status_code == 200
    assert session.exec(select(ApiKey)).one().name == "Shop"


def test_htmx_post_with_the_token_header_is_accepted(logged_in: Browser) -> None:
    response = logged_in.post("/settings/api-keys", {"name": "Shop"}, htmx=True)

    assert response.status_code == 200
    assert response.text.lstrip().startswith('<section class="card" id="api-keys">')


def test_post_without_token_is_refused_and_writes_nothing(
    logged_in: Browser, session: Session
) -> None:
    response = logged_in.client.post("/settings/api-keys", data={"name": "Shop"})

    assert response.status_code == 403
    assert session.exec(select(ApiKey)).all() == []


def test_post_with_another_sessions_token_is_refused(logged_in: Browser, session: Session) -> None:
    response = logged_in.client.post(
        "/settings/api-keys", data={"name": "Shop"}, headers={"X-CSRF-Token": "forged-token"}
    )

    assert response.status_code == 403
    assert session.exec(select(ApiKey)).all() == []


def test_refused_htmx_request_gets_a_short_alert_to_swap_in(logged_in: Browser) -> None:
    response = logged_in.client.post(
        "/settings/api-keys",
        data={"name": "Shop"},
        headers={"HX-Request": "true", "X-CSRF-Token": "stale"},
    )

    assert response.status_code == 403
    assert response.text.startswith('<div class="alert alert-error" role="alert">')
    assert "<html" not in response.text
