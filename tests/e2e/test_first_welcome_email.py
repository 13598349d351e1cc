"""Issue 14's "done when": a newcomer gets a first welcome email to a test contact from the
screens alone — no docs, no file — in at most 12 clicks, and watches the counters move on the
canvas without reloading it.

Every click goes through ``click``, which counts; typing is not a click. The canvas stays open
in its own tab while the contact is added in another, as a marketer would do.
Screenshots: test-artifacts/screenshots/first-email-*.png.
"""

from __future__ import annotations

import re
import uuid

import pytest

from tests.fixtures.browser import LiveServer, run_worker_once, screenshot

pytestmark = pytest.mark.e2e
MOST_CLICKS = 12


def test_a_newcomer_sends_a_first_welcome_email_in_twelve_clicks(
    live_server: LiveServer, browser
) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    clicks = 0
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    canvas = context.new_page()

    def click(locator) -> None:  # type: ignore[no-untyped-def]
        nonlocal clicks
        clicks += 1
        locator.click()

    canvas.goto(live_server.url + "/login")
    canvas.locator("input[name=email]").fill(live_server.email)
    canvas.locator("input[name=password]").fill(live_server.password)
    click(canvas.locator("form button[type=submit]"))
    click(canvas.get_by_test_id("nav-templates"))
    click(canvas.get_by_test_id("use-welcome"))
    canvas.wait_for_url(re.compile(r"/scenarios/\d+$"))
    click(canvas.get_by_test_id("activate"))
    confirm = canvas.get_by_test_id("confirm-activate")
    if confirm.count():
        click(confirm)
    expect(canvas.get_by_test_id("pause")).to_be_visible()
    entered = canvas.locator('.block-counters[data-node="joined"] [data-counter="entered"]')
    screenshot(canvas, "first-email-live")

    screens = context.new_page()
    screens.goto(live_server.url + "/")
    click(screens.get_by_test_id("nav-contacts"))
    click(screens.get_by_test_id("add-contact"))
    email = f"first-{uuid.uuid4().hex[:6]}@shop.test"
    screens.locator("input[name=email]").fill(email)
    screens.locator("input[name=first_name]").fill("Léa")
    click(screens.locator("input[name=consent_email]"))
    click(screens.locator("input[name=lists][value=newsletter]"))
    click(screens.get_by_test_id("save-contact"))
    expect(screens.get_by_text(email).first).to_be_visible()
    run_worker_once(live_server)  # the engine admits her, the sender sends

    click(screens.get_by_test_id("nav-mailbox"))
    expect(screens.get_by_text(email).first).to_be_visible()
    screenshot(screens, "first-email-mailbox")

    # The canvas tab was never reloaded: the live stream moved its counter.
    expect(entered).to_contain_text("1")
    screenshot(canvas, "first-email-counters")
    context.close()
    assert clicks <= MOST_CLICKS, f"{clicks} clicks"
