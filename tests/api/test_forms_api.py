"""POST/GET /api/v1/forms (CONTRACTS-2 §E): a form from the API is the one the hosted page
shows; bad bodies are 422 with the reasons and a taken key 409, nothing written either way."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, func, select

from app.models import ContactList, SignupForm

BODY: dict[str, Any] = {
    "key": "newsletter-signup",
    "name": "Inscription newsletter",
    "fields": [
        {"name": "email", "label": "Votre e-mail", "required": True},
        {"name": "first_name", "label": "Prénom", "required": False},
        {"name": "favourite_colour", "label": "Couleur préférée", "required": False},
    ],
    "lists": ["newsletter"],
    "double_opt_in": True,
    "consent_text": "J’accepte de recevoir la newsletter.",
    "redirect_url": "https://shop.example/merci",
    "language": "fr",
}


@pytest.fixture
def api(client: TestClient, api_key: str, session: Session) -> TestClient:
    session.add(ContactList(key="newsletter", name="Newsletter"))
    session.commit()
    client.headers["Authorization"] = f"Bearer {api_key}"
    return client


def forms(session: Session) -> int:
    return int(session.exec(select(func.count()).select_from(SignupForm)).one())


def test_a_form_created_by_the_api_is_listed_read_and_served(api: TestClient) -> None:
    created = api.post("/api/v1/forms", json=BODY)

    assert created.status_code == 201
    form = created.json()
    assert form["key"] == "newsletter-signup"
    assert [f["name"] for f in form["fields"]] == ["email", "first_name", "favourite_colour"]
    assert form["url"] == "http://testserver/f/newsletter-signup"
    assert '<iframe src="http://testserver/f/newsletter-signup"' in form["embed"]
    assert [f["key"] for f in api.get("/api/v1/forms").json()] == ["newsletter-signup"]
    assert api.get("/api/v1/forms/newsletter-signup").json()["language"] == "fr"
    assert api.get("/api/v1/forms/nope").status_code == 404
    page = api.get("/f/newsletter-signup")
    assert "Couleur préférée" in page.text
    assert "S’inscrire" in page.text  # the form's language for the chrome


def test_the_email_is_always_asked_and_required_and_the_key_comes_from_the_name(
    api: TestClient,
) -> None:
    body = {"name": "Ventes privées", "consent_text": "Oui", "fields": [{"name": "phone"}]}

    form = api.post("/api/v1/forms", json=body).json()

    assert form["key"] == "ventes-privees"
    assert form["fields"][0] == {"name": "email", "label": "", "required": True}
    assert form["double_opt_in"] is True
    other = {**body, "name": "New"}  # /forms/new is the builder's page, not a form's
    assert api.post("/api/v1/forms", json=other).json()["key"] == "new-form"
    assert api.post("/api/v1/forms", json={**other, "key": "new"}).status_code == 422


def test_a_taken_key_is_a_409_and_writes_nothing(api: TestClient, session: Session) -> None:
    api.post("/api/v1/forms", json=BODY)

    again = api.post("/api/v1/forms", json=BODY)

    assert again.status_code == 409
    assert forms(session) == 1


BAD: list[tuple[dict[str, Any], str]] = [
    ({"redirect_url": "javascript:alert(1)"}, "must start with https://"),
    ({"redirect_url": "//evil.example/x"}, "must start with https://"),
    ({"redirect_url": "data:text/html,hi"}, "must start with https://"),
    ({"redirect_url": "https://shop.example;script-src *@x/"}, "must start with https://"),
    ({"redirect_url": "https://shop.example:99999/"}, "must start with https://"),
    ({"redirect_url": "https://[::1/"}, "must start with https://"),
    ({"consent_text": "  "}, "consent wording"),
    ({"name": ""}, "Give the form a name"),
    ({"lists": ["nope"]}, "No list with the key 'nope'"),
    ({"fields": [{"name": "score"}]}, "'score' cannot be asked"),
    ({"fields": [{"name": "website"}]}, "'website' cannot be asked"),
    ({"fields": [{"name": "a b"}]}, "'a b' cannot be asked"),
    ({"fields": [{"name": "city"}, {"name": "city"}]}, "asked twice"),
    ({"language": "de"}, "language must be one of"),
    ({"key": "Not A Key"}, "cannot be used as a key"),
    ({"consent_text": "x" * 2001}, "longer than 2000"),
    ({"thank_you": "bip\u0007"}, "control characters"),
    ({"colour": "red"}, "Extra inputs"),
]


def test_a_bad_form_is_a_422_with_the_reason_and_writes_nothing(
    api: TestClient, session: Session
) -> None:
    for change, reason in BAD:  # one app for all of them: each app's first request is slow
        answer = api.post("/api/v1/forms", json={**BODY, **change})

        assert answer.status_code == 422, change
        assert reason in str(answer.json()["detail"]), change
    assert forms(session) == 0


def test_the_forms_api_needs_a_key(client: TestClient) -> None:
    assert client.get("/api/v1/forms").status_code == 401
    assert client.post("/api/v1/forms", json=BODY).status_code == 401
