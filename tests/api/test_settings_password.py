"""Changing your own password from Settings: the section says what happens, in the user's
language, and a refused change writes nothing."""

from __future__ import annotations

import html

from sqlmodel import Session

from app.models import User
from tests.fixtures.web import PASSWORD, Browser, another_browser, log_in


def test_the_account_section_says_how_to_change_the_password(logged_in: Browser) -> None:
    page = html.unescape(logged_in.client.get("/settings").text)

    assert "Change your password" in page
    assert "At least 10 characters." in page
    assert 'data-testid="change-password"' in page
    assert 'autocomplete="username" hidden' in page, "password managers know whose it is"


def test_a_too_short_new_password_is_refused_and_the_old_one_still_works(
    logged_in: Browser, user: User
) -> None:
    refused = logged_in.post(
        "/settings/password", {"current_password": PASSWORD, "new_password": "short"}, htmx=True
    )

    assert refused.status_code == 422
    assert "must have at least 10 characters" in refused.text
    assert log_in(another_browser(logged_in.client), user.email, PASSWORD)[0] == 303


def test_a_french_user_changes_the_password_in_french(
    logged_in: Browser, session: Session, user: User
) -> None:
    user.language = "fr"
    session.add(user)
    session.commit()

    page = html.unescape(logged_in.client.get("/settings").text)
    changed = logged_in.post(
        "/settings/password",
        {"current_password": PASSWORD, "new_password": "un tout nouveau secret"},
        htmx=True,
    )

    assert "Changer votre mot de passe" in page
    assert "Au moins 10 caractères." in page
    assert changed.status_code == 200
    assert "Mot de passe changé." in html.unescape(changed.text)
    fresh = another_browser(logged_in.client)
    assert log_in(fresh, user.email, "un tout nouveau secret")[0] == 303
