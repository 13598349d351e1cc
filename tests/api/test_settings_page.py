"""The Settings page: API keys shown once and revocable, and the people who can log in."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.models import ApiKey, User
from app.security import hash_api_key
from tests.fixtures.web import Browser, log_in


def test_new_api_key_is_shown_once_and_only_its_hash_is_stored(
    logged_in: Browser, session: Session
) -> None:
    response = logged_in.post("/settings/api-keys", {"name": "Online shop"}, htmx=True)

    plain = re.search(r'<code id="new-key">(pk_[\w-]+)</code>', response.text)
    assert plain, "the new key is shown"
    stored = session.exec(select(ApiKey)).one()
    assert stored.key_hash == hash_api_key(plain.group(1))
    assert plain.group(1) not in stored.model_dump_json()
    assert plain.group(1) not in logged_in.client.get("/settings").text


def test_api_key_needs_a_name(logged_in: Browser, session: Session) -> None:
    response = logged_in.post("/settings/api-keys", {"name": "   "}, htmx=True)

    assert response.status_code == 422
    assert "Give the key a name" in response.text
    assert session.exec(select(ApiKey)).all() == []


def test_revoked_key_no_longer_opens_the_api(logged_in: Browser, session: Session) -> None:
    created = logged_in.post("/settings/api-keys", {"name": "Shop"}, htmx=True)
    plain = re.search(r'<code id="new-key">(pk_[\w-]+)</code>', created.text).group(1)  # type: ignore[union-attr]
    headers = {"Authorization": f"Bearer {plain}"}
    assert logged_in.client.get("/api/v1/whoami", headers=headers).status_code == 200

    key_id = session.exec(select(ApiKey)).one().id
    revoked = logged_in.post(f"/settings/api-keys/{key_id}/revoke", htmx=True)

    assert "Revoked" in revoked.text
    assert logged_in.client.get("/api/v1/whoami", headers=headers).status_code == 401


def test_added_user_can_log_in(logged_in: Browser, client: TestClient) -> None:
    response = logged_in.post(
        "/settings/users",
        {"email": "paul@shop.example", "name": "Paul", "password": "a long password"},
        htmx=True,
    )
    assert "paul@shop.example can now log in." in response.text

    logged_in.post("/logout")
    assert log_in(client, "paul@shop.example", "a long password")[0] == 303


def test_user_with_a_short_password_is_refused_in_plain_words(
    logged_in: Browser, session: Session
) -> None:
    response = logged_in.post(
        "/settings/users", {"email": "paul@shop.example", "password": "short"}, htmx=True
    )

    assert response.status_code == 422
    assert "at least 10 characters" in response.text
    assert session.exec(select(User).where(User.email == "paul@shop.example")).first() is None


def test_duplicate_user_is_refused(logged_in: Browser, user: User) -> None:
    response = logged_in.post(
        "/settings/users", {"email": user.email, "password": "another long one"}, htmx=True
    )

    assert response.status_code == 422
    assert "already exists" in response.text


def test_you_cannot_deactivate_yourself(logged_in: Browser, user: User) -> None:
    response = logged_in.post(f"/settings/users/{user.id}/deactivate", htmx=True)

    assert response.status_code == 422
    assert "cannot deactivate your own account" in response.text


def test_deactivated_user_is_logged_out_at_once(
    logged_in: Browser, client: TestClient, session: Session, user: User
) -> None:
    logged_in.post("/settings/users", {"email": "paul@shop.example", "password": "a long password"})
    paul = session.exec(select(User).where(User.email == "paul@shop.example")).one()
    logged_in.post(f"/settings/users/{paul.id}/deactivate", htmx=True)

    logged_in.post("/logout")
    assert log_in(client, "paul@shop.example", "a long password")[0] == 401
