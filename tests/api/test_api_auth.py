"""The public API answers only to a valid API key."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from app.models import User
from tests.fixtures.web import PASSWORD, log_in


def test_valid_key_is_accepted(client: TestClient, api_key: str) -> None:
    response = client.get("/api/v1/whoami", headers={"Authorization": f"Bearer {api_key}"})

    assert response.status_code == 200
    assert response.json()["name"] == "Test shop"
    assert api_key.startswith(response.json()["prefix"])


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer pk_wrong", "Basic dXNlcjpwYXNz", "pk_no_scheme"],
)
def test_missing_or_wrong_key_gets_401_in_json(
    client: TestClient, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization is not None else {}
    response = client.get("/api/v1/whoami", headers=headers)

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert "Authorization: Bearer" in response.json()["detail"]


def test_a_ui_session_does_not_open_the_api(client: TestClient, user: User) -> None:
    log_in(client, user.email, PASSWORD)

    assert client.get("/api/v1/whoami").status_code == 401


def test_unknown_api_path_answers_json(client: TestClient, api_key: str) -> None:
    response = client.get("/api/v1/nothing-here", headers={"Authorization": f"Bearer {api_key}"})

    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}


def test_openapi_document_is_served(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()

    assert "/api/v1/whoami" in spec["paths"]
    assert "/login" not in spec["paths"]
