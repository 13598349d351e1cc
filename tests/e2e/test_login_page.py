"""A real Chromium logs in, sees the home page and uses an htmx form."""

from __future__ import annotations

import pytest

from tests.fixtures.browser import LiveServer, log_in, nav, screenshot

pytestmark = pytest.mark.e2e


def test_log_in_and_see_the_home_page(page, live_server: LiveServer) -> None:  # type: ignore[no-untyped-def]
    page.goto(live_server.url + "/")
    assert page.url.endswith("/login?next=/")
    screenshot(page, "login")

    log_in(page, live_server)

    page.wait_for_url(live_server.url + "/")
    assert page.get_by_role("heading", name="Good to see you, Elise").is_visible()
    assert nav(page).get_by_role("link", name="Scenarios").is_visible()
    assert screenshot(page, "home").stat().st_size > 10_000


def test_wrong_password_shows_an_error(page, live_server: LiveServer) -> None:  # type: ignore[no-untyped-def]
    log_in(page, live_server, password="nope")

    assert page.get_by_role("alert").inner_text() == "Wrong email or password."


def test_create_an_api_key_with_htmx_and_see_it_once(page, live_server: LiveServer) -> None:  # type: ignore[no-untyped-def]
    log_in(page, live_server)
    page.wait_for_url(live_server.url + "/")

    nav(page).get_by_role("link", name="Settings").click()
    page.get_by_placeholder("Who will use it?").fill("Online shop")
    page.get_by_role("button", name="Create key").click()

    key = page.locator("#new-key")
    key.wait_for()
    assert key.inner_text().startswith("pk_")
    assert page.url == live_server.url + "/settings"  # swapped in place, no reload
    screenshot(page, "settings")
