"""The message editor in a real Chromium: "Insert a field" puts the placeholder at the cursor
(the preview fills it in), and leaving with unsaved changes asks first — only then."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import expect

from app.db import create_db_engine, session_scope
from app.models import Contact
from app.services.account.users import create_user
from tests.fixtures.browser import LiveServer, log_in, screenshot

pytestmark = pytest.mark.e2e


def add_shopper(server: LiveServer) -> None:
    engine = create_db_engine(server.settings.database_url)
    with session_scope(engine) as session:
        session.add(
            Contact(
                email=f"shopper-{uuid.uuid4().hex[:6]}@example.com",
                first_name="Hugo",
                attributes={"orders_count": 4},
            )
        )
    engine.dispose()


def insert(page, label: str) -> None:  # type: ignore[no-untyped-def]
    page.get_by_test_id("insert-field").click()
    page.get_by_role("menuitem", name=label, exact=True).click()


def test_insert_a_field_at_the_cursor_and_be_warned_before_leaving_unsaved(  # type: ignore[no-untyped-def]
    page, live_server: LiveServer
) -> None:
    add_shopper(live_server)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    log_in(page, live_server)
    page.wait_for_url(live_server.url + "/")
    page.goto(live_server.url + "/messages/new")
    dialogs: list[str] = []

    # Untouched: leaving asks nothing.
    page.on("dialog", lambda d: (dialogs.append(d.type), d.dismiss()))
    page.get_by_role("link", name="All messages").click()
    page.wait_for_url(live_server.url + "/messages")
    assert dialogs == []

    page.goto(live_server.url + "/messages/new")
    key = f"thanks-{uuid.uuid4().hex[:6]}"
    page.get_by_label("Name", exact=True).fill("Thanks")
    page.get_by_label("Key", exact=True).fill(key)
    subject = page.get_by_label("Subject", exact=True)
    subject.fill("Thank you, !")
    subject.evaluate("el => el.setSelectionRange(11, 11)")  # just before "!"
    insert(page, "First name")
    expect(subject).to_have_value("Thank you, {{ contact.first_name }}!")
    expect(page.get_by_test_id("preview-subject")).to_have_text("Thank you, Léa!")
    expect(page.get_by_role("status").filter(has_text="inserted")).to_have_text(
        "“First name” inserted."
    )

    body = page.get_by_label("HTML body")
    body.fill("<p>Orders: </p>")
    body.evaluate("el => el.setSelectionRange(11, 11)")
    insert(page, "Orders count")
    expect(body).to_have_value("<p>Orders: {{ contact.orders_count }}</p>")
    page.keyboard.type(" so far")  # the cursor is after the placeholder, in the body
    expect(body).to_have_value("<p>Orders: {{ contact.orders_count }} so far</p>")
    screenshot(page, "messages-editor-insert-field")

    # Unsaved: leaving asks, and staying keeps everything.
    page.get_by_role("link", name="All messages").click()
    page.wait_for_timeout(300)
    assert dialogs == ["beforeunload"]
    assert page.url == live_server.url + "/messages/new"
    expect(body).to_have_value("<p>Orders: {{ contact.orders_count }} so far</p>")

    # Saved: the editor of the new message opens without asking, and is clean.
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(f"{live_server.url}/messages/{key}")
    expect(page.get_by_label("Subject", exact=True)).to_have_value(
        "Thank you, {{ contact.first_name }}!"
    )
    page.get_by_role("link", name="All messages").click()
    page.wait_for_url(live_server.url + "/messages")
    assert dialogs == ["beforeunload"]

    # A change saved in place (no redirect) makes the form clean too.
    page.goto(f"{live_server.url}/messages/{key}")
    page.get_by_label("Subject", exact=True).fill("Thanks again")
    page.get_by_role("button", name="Save").click()
    page.get_by_text("Saved at").wait_for()
    page.get_by_role("link", name="All messages").click()
    page.wait_for_url(live_server.url + "/messages")
    assert dialogs == ["beforeunload"]
    assert errors == []


def test_a_french_user_inserts_a_field_from_a_menu_in_french(  # type: ignore[no-untyped-def]
    page, live_server: LiveServer
) -> None:
    email, password = f"fr-editor-{uuid.uuid4().hex[:6]}@parcours.test", "editor-password-1234"
    engine = create_db_engine(live_server.settings.database_url)
    with session_scope(engine) as session:
        user = create_user(session, email=email, password=password, name="Camille")
        user.language = "fr"
        session.add(user)
    engine.dispose()
    page.goto(live_server.url + "/login")
    page.locator("input[name=email]").fill(email)
    page.locator("input[name=password]").fill(password)
    page.locator("form button[type=submit]").click()
    page.wait_for_url(live_server.url + "/")

    page.goto(live_server.url + "/messages/new?channel=sms")
    text = page.locator("textarea[name=text]")
    text.fill("Bonjour ")
    page.get_by_test_id("insert-field").click()
    menu = page.get_by_role("menu", name="Insérer un champ")
    expect(menu).to_be_visible()
    expect(menu.get_by_role("menuitem", name="Lien de désinscription")).to_have_count(0)
    screenshot(page, "messages-editor-insert-field-menu-fr")
    menu.get_by_role("menuitem", name="Prénom", exact=True).click()

    expect(text).to_have_value("Bonjour {{ contact.first_name }}")
    expect(page.get_by_role("status").filter(has_text="inséré")).to_have_text("« Prénom » inséré.")
    screenshot(page, "messages-editor-insert-field-fr")
