"""In Chromium: the sending rules are set on the Settings page in plain words, at phone and
desktop widths, and read back as saved."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from app.db import create_db_engine, session_scope
from app.services.messaging import sending_rules
from tests.fixtures.browser import LiveServer, log_in, screenshot

pytestmark = pytest.mark.e2e


@pytest.fixture
def no_rules_after(live_server: LiveServer) -> Iterator[None]:
    """The server is the session's: other tests must not find their emails held."""
    yield
    engine = create_db_engine(live_server.settings.database_url)
    with session_scope(engine) as session:
        sending_rules.write(session, sending_rules.SendingRulesIn())
    engine.dispose()


def stored(server: LiveServer) -> dict:  # type: ignore[type-arg]
    engine = create_db_engine(server.settings.database_url)
    with session_scope(engine) as session:
        rules = sending_rules.as_json(sending_rules.read(session))
    engine.dispose()
    return rules


def test_quiet_hours_and_an_email_cap_are_set_in_plain_words(  # type: ignore[no-untyped-def]
    page, live_server: LiveServer, no_rules_after: None
) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, live_server)
    page.wait_for_url(live_server.url + "/")
    page.goto(live_server.url + "/settings#sending-rules")
    card = page.get_by_test_id("sending-rules")

    card.get_by_test_id("quiet-on").check()
    card.get_by_test_id("quiet-start").fill("22:00")
    card.get_by_label("Limit marketing emails").check()
    email = card.get_by_test_id("cap-email")
    email.get_by_label("How many").fill("2")
    email.get_by_label("Days").fill("5")
    card.scroll_into_view_if_needed()
    screenshot(page, "sending-rules-390")
    card.get_by_role("button", name="Save the sending rules").click()

    expect(card.get_by_text("Saved. Marketing messages follow these rules")).to_be_visible()
    rules = stored(live_server)
    assert rules["quiet_hours"] == {"start": "22:00", "end": "08:00", "weekdays": None}
    assert rules["caps"] == [{"channel": "email", "max": 2, "per_days": 5}]
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, "nothing sticks out at phone width"

    page.set_viewport_size({"width": 1280, "height": 900})
    page.reload()
    expect(page.get_by_test_id("quiet-start")).to_have_value("22:00")
    page.get_by_test_id("sending-rules").scroll_into_view_if_needed()
    screenshot(page, "sending-rules-1280")
