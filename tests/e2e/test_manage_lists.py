"""In Chromium: a list's key follows its name as it is typed, a key typed by hand is kept, and
the list is renamed and deleted from its row."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlmodel import select

from app.db import create_db_engine, session_scope
from app.models import ContactList
from tests.fixtures.browser import LiveServer, log_in, screenshot

pytestmark = pytest.mark.e2e


OURS = {"clients-fideles", "vip"}


def list_keys(server: LiveServer) -> list[tuple[str, str]]:
    """This test's lists: the session's server holds other tests' lists too."""
    engine = create_db_engine(server.settings.database_url)
    with session_scope(engine) as session:
        rows = [(row.key, row.name) for row in session.scalars(select(ContactList))]
    engine.dispose()
    return sorted(row for row in rows if row[0] in OURS)


def test_a_list_key_is_made_from_its_name_then_renamed_and_deleted(  # type: ignore[no-untyped-def]
    page, live_server: LiveServer
) -> None:
    log_in(page, live_server)
    page.wait_for_url(live_server.url + "/")
    page.goto(live_server.url + "/lists")
    name = page.get_by_placeholder("New list name, e.g. Newsletter")
    key = page.locator("#lists-card input[name=key]")

    name.fill("Clients fidèles")
    expect(key).to_have_value("clients-fideles")
    screenshot(page, "list-key-from-name")
    page.get_by_role("button", name="Create list").click()
    expect(page.get_by_text("List “Clients fidèles” created.")).to_be_visible()

    # The same name again: the key offered is the next free one.
    page.get_by_placeholder("New list name, e.g. Newsletter").fill("Clients Fidèles")
    expect(page.locator("#lists-card input[name=key]")).to_have_value("clients-fideles-2")
    # A key typed by hand is kept while the name changes.
    page.locator("#lists-card input[name=key]").fill("vip")
    page.get_by_placeholder("New list name, e.g. Newsletter").fill("Very important people")
    page.wait_for_timeout(600)
    expect(page.locator("#lists-card input[name=key]")).to_have_value("vip")
    page.get_by_role("button", name="Create list").click()
    expect(page.get_by_text("List “Very important people” created.")).to_be_visible()
    assert list_keys(live_server) == [
        ("clients-fideles", "Clients fidèles"),
        ("vip", "Very important people"),
    ]

    manage = page.get_by_test_id("manage-list-vip")
    manage.locator("summary").click()
    manage.locator("input[name=name]").fill("VIP")
    manage.get_by_test_id("rename-list").click()
    expect(page.get_by_text("List renamed “VIP”.")).to_be_visible()

    page.once("dialog", lambda dialog: dialog.accept())
    manage = page.get_by_test_id("manage-list-vip")
    manage.locator("summary").click()
    manage.get_by_test_id("delete-list").click()
    expect(page.get_by_test_id("list-deleted")).to_contain_text("List “VIP” deleted.")
    assert list_keys(live_server) == [("clients-fideles", "Clients fidèles")]
