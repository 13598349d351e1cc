"""The messages API: create or update by key, list, read; broken templates write nothing."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlmodel import Session, func, select

from app.models import MessageTemplate

WELCOME = {
    "key": "welcome",
    "name": "Welcome",
    "subject": "Welcome, {{ contact.first_name | default('there') }}!",
    "html": "<h1>Hello {{ contact.first_name }}</h1>",
    "text": "Hello {{ contact.first_name }}",
    "from_name": "Shop",
    "from_email": "hello@shop.example",
}


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def count(session: Session) -> int:
    return session.exec(select(func.count()).select_from(MessageTemplate)).one()


def test_a_message_is_created_then_updated_by_its_key(client: TestClient, api_key: str) -> None:
    created = client.post("/api/v1/messages", json=WELCOME, headers=auth(api_key))
    assert created.status_code == 201, created.text
    assert created.json()["purpose"] == "marketing"

    updated = client.post(
        "/api/v1/messages", json={**WELCOME, "subject": "Hi!"}, headers=auth(api_key)
    )
    assert updated.status_code == 200
    assert updated.json()["subject"] == "Hi!"

    listed = client.get("/api/v1/messages", headers=auth(api_key)).json()
    assert [m["key"] for m in listed] == ["welcome"]
    one = client.get("/api/v1/messages/welcome", headers=auth(api_key)).json()
    assert one["from_email"] == "hello@shop.example"


def test_an_sms_has_only_a_text(client: TestClient, api_key: str) -> None:
    body = {
        "key": "promo-sms",
        "channel": "sms",
        "text": "Hi {{ contact.first_name }}!",
        "subject": "ignored",
    }
    response = client.post("/api/v1/messages", json=body, headers=auth(api_key))
    assert response.status_code == 201
    assert (response.json()["subject"], response.json()["name"]) == ("", "Promo sms")


def test_a_broken_template_is_refused_with_its_line_and_nothing_is_written(
    client: TestClient, api_key: str, session: Session
) -> None:
    broken = {**WELCOME, "html": "<h1>Hello</h1>\n<p>{{ contact.first_name </p>"}
    response = client.post("/api/v1/messages", json=broken, headers=auth(api_key))

    assert response.status_code == 422
    assert response.json()["detail"].startswith("In the HTML body, line 2:")
    assert count(session) == 0


def test_an_update_that_breaks_the_template_keeps_the_old_one(
    client: TestClient, api_key: str
) -> None:
    client.post("/api/v1/messages", json=WELCOME, headers=auth(api_key))
    escape = {**WELCOME, "subject": "{{ ''.__class__.__mro__ }}"}
    response = client.post("/api/v1/messages", json=escape, headers=auth(api_key))

    assert response.status_code == 422
    assert "not allowed" in response.json()["detail"]
    assert (
        client.get("/api/v1/messages/welcome", headers=auth(api_key)).json()["subject"]
        == WELCOME["subject"]
    )


def test_bad_input_gets_a_clear_422(client: TestClient, api_key: str, session: Session) -> None:
    cases = {
        "cannot be used as a key": {**WELCOME, "key": "Not a key!"},
        "An email needs a subject.": {**WELCOME, "subject": "  "},
        "An email needs a body": {**WELCOME, "html": "", "text": ""},
        "An SMS needs a text.": {"key": "s", "channel": "sms"},
        "is not an email address": {**WELCOME, "from_email": "shop"},
    }
    for expected, body in cases.items():
        response = client.post("/api/v1/messages", json=body, headers=auth(api_key))
        assert response.status_code == 422, expected
        assert expected in response.json()["detail"], response.json()
    wrong_channel = client.post(
        "/api/v1/messages", json={**WELCOME, "channel": "pigeon"}, headers=auth(api_key)
    )
    assert wrong_channel.status_code == 422
    assert count(session) == 0


def test_an_unknown_key_is_a_404_and_the_api_needs_a_key(client: TestClient, api_key: str) -> None:
    missing = client.get("/api/v1/messages/nope", headers=auth(api_key))
    assert missing.status_code == 404
    assert missing.json() == {"detail": "There is no message with the key “nope”."}
    assert client.get("/api/v1/messages").status_code == 401
