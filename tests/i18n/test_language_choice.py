"""Who reads which language: the browser's before login, the user's own choice after, and the
JSON API always in English."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlmodel import Session

from app.models import User
from tests.fixtures.web import Browser


def test_the_login_page_speaks_the_browsers_language(client: TestClient) -> None:
    french = client.get("/login", headers={"Accept-Language": "fr-FR,fr;q=0.9,en;q=0.8"})
    english = client.get("/login", headers={"Accept-Language": "en-GB,en;q=0.9"})

    assert '<html lang="fr">' in french.text
    assert "Se connecter" in french.text
    assert '<html lang="en">' in english.text
    assert "Log in" in english.text


def test_a_language_parcours_does_not_speak_falls_back_to_the_next_one(client: TestClient) -> None:
    page = client.get("/login", headers={"Accept-Language": "de-DE, fr;q=0.5"})

    assert '<html lang="fr">' in page.text


def test_no_accept_language_means_english(client: TestClient) -> None:
    assert '<html lang="en">' in client.get("/login").text


def test_the_users_choice_beats_the_browser(
    logged_in: Browser, session: Session, user: User
) -> None:
    saved = logged_in.post("/settings/preferences", {"language": "fr", "time_zone": "Europe/Paris"})

    assert saved.status_code == 303
    page = logged_in.client.get("/settings", headers={"Accept-Language": "en-US"})
    assert '<html lang="fr">' in page.text
    assert "Paramètres" in page.text
    session.refresh(user)
    assert (user.language, user.time_zone) == ("fr", "Europe/Paris")


def test_following_the_browser_again(logged_in: Browser, session: Session, user: User) -> None:
    logged_in.post("/settings/preferences", {"language": "fr", "time_zone": "UTC"})
    logged_in.post("/settings/preferences", {"language": "", "time_zone": "UTC"})

    page = logged_in.client.get("/settings", headers={"Accept-Language": "en-US"})
    assert '<html lang="en">' in page.text
    session.refresh(user)
    assert user.language is None


def test_an_unknown_language_or_zone_is_refused_and_changes_nothing(
    logged_in: Browser, session: Session, user: User
) -> None:
    for form in (
        {"language": "klingon", "time_zone": "UTC"},
        {"language": "fr", "time_zone": "Mars/Olympus"},
    ):
        refused = logged_in.post("/settings/preferences", form)
        assert refused.status_code == 422
    session.refresh(user)
    assert (user.language, user.time_zone) == (None, None)


def test_the_language_survives_a_logout(logged_in: Browser) -> None:
    logged_in.post("/settings/preferences", {"language": "fr", "time_zone": "UTC"})
    logged_in.post("/logout")

    login = logged_in.client.get("/login", headers={"Accept-Language": "en-US"})
    assert '<html lang="fr">' in login.text


def test_the_json_api_answers_in_english_whatever_the_header(
    client: TestClient, api_key: str
) -> None:
    answer = client.get(
        "/api/v1/contacts/999999",
        headers={"Authorization": f"Bearer {api_key}", "Accept-Language": "fr"},
    )

    assert answer.status_code == 404
    assert answer.json()["detail"] == "There is no contact with id 999999."


def test_the_workspace_language_for_contacts_is_a_setting(logged_in: Browser) -> None:
    saved = logged_in.post("/settings/workspace", {"contact_language": "fr"}, htmx=True)
    assert saved.status_code == 200
    assert 'value="fr" lang="fr" selected' in logged_in.client.get("/settings").text

    refused = logged_in.post("/settings/workspace", {"contact_language": "xx"}, htmx=True)
    assert refused.status_code == 422
