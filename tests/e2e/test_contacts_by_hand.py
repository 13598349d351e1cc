"""A marketer adds a contact on screen, with consent and a list, then adds another to the
list from the list's page by email (issue 14, point 1)."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect
from sqlmodel import col, select

from app.clock import utcnow
from app.db import create_db_engine, session_scope
from app.models import Contact
from app.services.contacts.lists import create_list, get_list, member_count
from tests.fixtures.browser import LiveServer, log_in, screenshot

pytestmark = pytest.mark.e2e


def seed_list(server: LiveServer) -> tuple[str, str]:
    """A list of this test's own (the live server is shared): its key and name."""
    key = f"vip-{uuid.uuid4().hex[:6]}"
    name = f"VIP {key[-6:]}"
    engine = create_db_engine(server.settings.database_url)
    with session_scope(engine) as session:
        create_list(session, key=key, name=name, now=utcnow())
    engine.dispose()
    return key, name


def test_add_a_contact_on_screen_with_consent_and_a_list(  # type: ignore[no-untyped-def]
    page, live_server: LiveServer
) -> None:
    key, name = seed_list(live_server)
    email = f"lea-{uuid.uuid4().hex[:6]}@by-hand.example"
    log_in(page, live_server)
    page.wait_for_url(live_server.url + "/")

    page.goto(live_server.url + "/contacts")
    page.get_by_test_id("add-contact").click()
    page.wait_for_url(live_server.url + "/contacts/new")
    page.locator("input[name=email]").fill("lea@")
    page.get_by_test_id("save-contact").click()
    expect(page.locator("#problem-email")).to_contain_text("is not a valid email address")

    page.locator("input[name=email]").fill(email)
    page.locator("input[name=first_name]").fill("Léa")
    page.locator("input[name=attr_name_0]").fill("city")
    page.locator("input[name=attr_value_0]").fill("Lyon")
    page.locator("input[name=consent_email]").check()
    page.locator(f"input[name=lists][value={key}]").check()
    screenshot(page, "contact-add-form")
    page.get_by_test_id("save-contact").click()

    page.wait_for_url(re.compile(r"/contacts/\d+\?added=1$"))
    expect(page.get_by_text("Contact added.")).to_be_visible()
    expect(page.get_by_role("heading", name="Léa")).to_be_visible()
    expect(page.get_by_text("added by Elise")).to_be_visible()
    expect(page.locator("#lists").get_by_role("link", name=name)).to_be_visible()
    screenshot(page, "contact-added")

    engine = create_db_engine(live_server.settings.database_url)
    with session_scope(engine) as session:
        lea = session.scalars(select(Contact).where(col(Contact.email) == email)).one()
        assert lea.email_consent is True
        assert lea.attributes == {"city": "Lyon"}
        assert lea.id is not None
        lea_id = lea.id
    engine.dispose()

    # Edit: leave the list from the edit form, then join it again from the contact's page.
    page.get_by_test_id("edit-contact").click()
    page.locator(f"input[name=lists][value={key}]").uncheck()
    page.locator("input[name=last_name]").fill("Martin")
    page.get_by_test_id("save-contact").click()
    page.wait_for_url(f"{live_server.url}/contacts/{lea_id}?saved=1")
    expect(page.get_by_role("heading", name="Léa Martin")).to_be_visible()
    page.locator("select[name=list_key]").select_option(key)
    page.get_by_test_id("join-list").click()
    expect(page.locator("#lists").get_by_role("link", name=name)).to_be_visible()

    # The list's page: several emails at once, one unknown.
    page.goto(f"{live_server.url}/lists/{key}")
    page.locator("textarea[name=emails]").fill(f"{email}, nobody@by-hand.example")
    page.get_by_test_id("add-members").click()
    report = page.get_by_test_id("membership-report")
    expect(report).to_contain_text("1 already in the list.")
    expect(report).to_contain_text("nobody@by-hand.example")
    page.locator("textarea[name=emails]").fill(email)
    page.get_by_test_id("remove-members").click()
    expect(page.get_by_test_id("membership-report")).to_contain_text("1 removed.")
    screenshot(page, "list-members-by-email")

    # On a phone the form and the list's page fit the width: no sideways scrolling.
    page.set_viewport_size({"width": 390, "height": 844})
    for url, shot in (("/contacts/new", "contact-add-form-390"), (f"/lists/{key}", "list-390")):
        page.goto(live_server.url + url)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, url
        screenshot(page, shot)

    engine = create_db_engine(live_server.settings.database_url)
    with session_scope(engine) as session:
        contact_list = get_list(session, key)
        assert contact_list.id is not None
        assert member_count(session, contact_list.id) == 0
    engine.dispose()


def test_the_import_warns_until_a_column_holds_email_consent(  # type: ignore[no-untyped-def]
    page, live_server: LiveServer
) -> None:
    log_in(page, live_server)
    page.wait_for_url(live_server.url + "/")
    page.goto(live_server.url + "/contacts/import")
    csv = b"Email,Agreed\na@warn.example,yes\nb@warn.example,no\n"
    page.get_by_label("CSV file").set_input_files(
        {"name": "warn.csv", "mimeType": "text/csv", "buffer": csv}
    )
    page.get_by_role("button", name="Upload and preview").click()

    warning = page.get_by_test_id("consent-warning")
    expect(warning).to_be_visible()
    expect(warning).to_contain_text("these 2 contacts will not receive marketing emails")
    page.get_by_label("Column Agreed goes to").select_option("email_consent")
    expect(warning).to_be_hidden()
    page.get_by_label("Column Agreed goes to").select_option("ignore")
    expect(warning).to_be_visible()
    screenshot(page, "import-consent-warning")
