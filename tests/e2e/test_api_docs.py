"""The API reference renders in a real Chromium with every request outside this server refused."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.fixtures.browser import LiveServer, screenshot

pytestmark = pytest.mark.e2e


def test_the_docs_page_renders_the_operations_with_the_network_closed(  # type: ignore[no-untyped-def]
    page, live_server: LiveServer
) -> None:
    here = urlsplit(live_server.url).netloc
    elsewhere: list[str] = []

    def only_this_server(route) -> None:  # type: ignore[no-untyped-def]
        if urlsplit(route.request.url).netloc == here:
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    page.context.route("**/*", only_this_server)
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)

    page.goto(live_server.url + "/docs")

    page.locator(".opblock-summary-path", has_text="/api/v1/contacts").first.wait_for()
    assert page.locator(".opblock").count() > 10
    assert page.get_by_role("heading", name="Parcours").first.is_visible()
    assert elsewhere == []
    assert not [e for e in errors if "Content Security Policy" in e], errors
    screenshot(page, "api-docs")
