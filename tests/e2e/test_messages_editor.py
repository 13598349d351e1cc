"""A marketer writes a personalised email and an SMS, with the live preview, in a real Chromium."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlmodel import select

from app.db import create_db_engine, session_scope
from app.models import Contact
from tests.fixtures.browser import LiveServer, log_in, screenshot

pytestmark = pytest.mark.e2e


def add_contact(server: LiveServer, email: str, first_name: str) -> None:
    engine = create_db_engine(server.settings.database_url)
    with session_scope(engine) as session:
        if session.exec(select(Contact).where(Contact.email == email)).first() is None:
            session.add(Contact(email=email, first_name=first_name, email_consent=True))
    engine.dispose()


def test_the_email_editor_previews_live_for_a_chosen_contact_and_saves(  # type: ignore[no-untyped-def]
    page, live_server: LiveServer
) -> None:
    add_contact(live_server, "chloe@example.com", "Chloé")
    log_in(page, live_server)
    page.wait_for_url(live_server.url + "/")

    page.goto(live_server.url + "/messages")
    page.get_by_role("link", name="New email").click()
    page.get_by_label("Name", exact=True).fill("Spring newsletter")
    page.get_by_label("Key", exact=True).fill("spring-news")
    page.get_by_label("Subject", exact=True).fill(
        "Spring is here, {{ contact.first_name | default('friend') }}"
    )
    page.get_by_label("HTML body").fill(
        "<style>h1 { color: #e11d48; }</style>\n"
        "<h1>Hello {{ contact.first_name }}!</h1>\n"
        "<p>New colours for {{ contact.city | default('you') }}.</p>"
    )

    frame = page.frame_locator("iframe.mail-frame")
    frame.get_by_text("New colours for Lyon.").wait_for()
    assert page.get_by_test_id("preview-subject").inner_text() == "Spring is here, Léa"
    color = frame.get_by_role("heading").evaluate("h => h.getAttribute('style')")
    assert "color: #e11d48" in color, "CSS is inlined in the preview as in the email"
    screenshot(page, "messages-editor-desktop")

    page.get_by_label("Preview for").select_option(label="Chloé — chloe@example.com")
    frame.get_by_text("New colours for you.").wait_for()
    assert frame.get_by_role("heading").inner_text() == "Hello Chloé!"

    page.get_by_text("Mobile", exact=True).click()
    expect(page.locator("iframe.mail-frame")).to_have_css("width", "375px")
    screenshot(page, "messages-editor-mobile")

    page.get_by_label("HTML body").fill("<h1>Hello {{ contact.first_name </h1>")
    page.get_by_role("alert").filter(has_text="line 1").wait_for()
    screenshot(page, "messages-editor-error")

    page.get_by_label("HTML body").fill("<h1>Hello {{ contact.first_name }}!</h1>")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(live_server.url + "/messages/spring-news")
    # Saved, the key is shown and no longer editable.
    expect(page.get_by_test_id("key-field")).to_contain_text("spring-news")
    expect(page.get_by_label("Key", exact=True)).to_have_count(0)


def test_the_sms_editor_counts_characters_and_segments_as_you_type(  # type: ignore[no-untyped-def]
    page, live_server: LiveServer
) -> None:
    log_in(page, live_server)
    page.wait_for_url(live_server.url + "/")
    page.goto(live_server.url + "/messages/new?channel=sms")

    page.locator("textarea[name=text]").fill("Flash sale: -20% today only!")
    counter = page.get_by_test_id("sms-count")
    counter.filter(has_text="28 characters").wait_for()
    assert "1 SMS · GSM-7" in " ".join(counter.inner_text().split())

    page.locator("textarea[name=text]").fill("Flash sale today only 🎉 " * 4)
    counter.filter(has_text="UCS-2").wait_for()
    assert "2 SMS" in " ".join(counter.inner_text().split())
    screenshot(page, "messages-sms-editor")


def test_the_starter_messages_look_good_in_the_mailbox_list(  # type: ignore[no-untyped-def]
    page, live_server: LiveServer
) -> None:
    log_in(page, live_server)
    page.wait_for_url(live_server.url + "/")
    page.goto(live_server.url + "/messages")
    if page.get_by_role("button", name="Add").count():
        page.get_by_role("button", name="Add").first.click()
    page.get_by_role("link", name="Cart reminder", exact=True).click()
    page.frame_locator("iframe.mail-frame").get_by_role(
        "heading", name="Léa, your cart is waiting for you"
    ).wait_for()
    screenshot(page, "messages-starter-cart-reminder")
    page.goto(live_server.url + "/messages")
    screenshot(page, "messages-list")


def test_the_mailbox_shows_a_sent_email_and_the_unsubscribe_page_asks_first(  # type: ignore[no-untyped-def]
    page, live_server: LiveServer
) -> None:
    from app.message_templates import starters
    from app.services.messaging.mailbox import store
    from app.services.messaging.unsubscribe import UnsubscribeLinks

    add_contact(live_server, "ines@example.com", "Inès")
    engine = create_db_engine(live_server.settings.database_url)
    with session_scope(engine) as session:
        ines = session.exec(select(Contact).where(Contact.email == "ines@example.com")).one()
        html = starters()["welcome"].html.replace("{{ sender.name }}", "Maison Lumière")
        html = html.replace('{{ contact.first_name | default("there") }}', "Inès")
        store(
            session,
            [
                {
                    "outbox_id": None,
                    "contact_id": ines.id,
                    "channel": "email",
                    "message_key": "welcome",
                    "to_address": "Inès <ines@example.com>",
                    "from_address": "Maison Lumière <hello@maison.example>",
                    "subject": "Welcome, Inès!",
                    "html": html,
                    "text": "Hello Inès",
                    "headers": {"Message-ID": "<1%3Awelcome%3A1@127.0.0.1>"},
                    "created_at": ines.created_at,
                }
            ],
        )
        contact_id = ines.id
    engine.dispose()

    log_in(page, live_server)
    page.wait_for_url(live_server.url + "/")
    page.goto(live_server.url + "/mailbox")
    screenshot(page, "mailbox")
    page.get_by_role("link", name="Welcome, Inès!").click()
    frame = page.frame_locator("iframe.mail-frame")
    frame.get_by_role("heading", name="Hello Inès, glad you are here!").wait_for()
    screenshot(page, "mailbox-message")

    links = UnsubscribeLinks(live_server.url, live_server.settings.resolved_secret_key())
    page.goto(links.url(contact_id, "1:welcome:1"))
    assert page.get_by_role("heading", name="Unsubscribe from our emails?").is_visible()
    screenshot(page, "unsubscribe-confirm")
    page.get_by_role("button", name="Unsubscribe").click()
    page.get_by_role("heading", name="You are unsubscribed").wait_for()
    screenshot(page, "unsubscribe-done")
