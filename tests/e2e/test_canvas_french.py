"""A French user draws on the canvas in a real Chromium: the palette, an opened panel, the
block menu, a refused link and the autosave status all speak French (the browser itself asks
for English: the user's own choice wins). Screenshot: canvas-fr-*.png."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import expect

from app.db import create_db_engine, session_scope
from app.services.account.users import create_user
from tests.e2e import test_canvas_designer
from tests.e2e.test_canvas_designer import center, drag, ensure_refs, make_scenario
from tests.e2e.test_canvas_editing import BUY_THEN_MAIL
from tests.fixtures.browser import LiveServer, screenshot

pytestmark = pytest.mark.e2e
console_errors = test_canvas_designer.console_errors  # the same fixture: no console errors


def french_user(server: LiveServer) -> tuple[str, str]:
    email, password = f"fr-canvas-{uuid.uuid4().hex[:6]}@parcours.test", "canvas-password-1234"
    engine = create_db_engine(server.settings.database_url)
    with session_scope(engine) as session:
        user = create_user(session, email=email, password=password, name="Camille")
        user.language = "fr"
        session.add(user)
    engine.dispose()
    return email, password


def test_a_french_user_reads_the_canvas_in_french(
    page, live_server: LiveServer, console_errors: list[str]
) -> None:  # type: ignore[no-untyped-def]
    ensure_refs(live_server)
    scenario_id = make_scenario(live_server, "Panier", BUY_THEN_MAIL)
    email, password = french_user(live_server)
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: console_errors.append(str(e)))
    page.goto(live_server.url + "/login")
    page.locator("input[name=email]").fill(email)
    page.locator("input[name=password]").fill(password)
    page.locator("form button[type=submit]").click()
    page.wait_for_url(live_server.url + "/")
    page.goto(f"{live_server.url}/scenarios/{scenario_id}")
    page.wait_for_selector("#editor[data-ready=true]")

    # The palette, from the server's catalog in the reader's words.
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    palette = page.get_by_role("complementary", name="Blocs à ajouter")
    expect(palette.locator(".palette-family h2").first).to_contain_text("Déclencheurs")
    expect(page.get_by_test_id("palette-trigger-event-purchase")).to_contain_text("Lors d’un achat")
    expect(page.get_by_test_id("palette-delay-wait")).to_contain_text("Attendre")
    expect(page.get_by_test_id("node-mail").locator(".node-name")).to_have_text("Envoyer un e-mail")
    expect(page.get_by_test_id("issues-button")).not_to_contain_text("Ready")

    # A block's panel, rendered by the server for this user.
    page.get_by_test_id("node-mail").dblclick()
    panel = page.get_by_test_id("panel")
    expect(panel.get_by_text("L’e-mail à envoyer")).to_be_visible()
    expect(panel.get_by_test_id("panel-apply")).to_contain_text("Appliquer")
    expect(panel.get_by_role("button", name="Supprimer le bloc")).to_be_visible()

    # The block menu and a refused link: words the canvas script writes itself.
    page.get_by_test_id("node-mail").locator(".node-menu-button").click()
    menu = page.locator(".add-menu")
    expect(menu.get_by_role("menuitem", name="Dupliquer")).to_be_visible()
    expect(menu).to_contain_text("Suppr")
    page.keyboard.press("Escape")
    drag(page, center(page, "port-buy-out"), center(page, "node-buy"), release=False)
    expect(page.get_by_test_id("wire-tip")).to_contain_text("Cette sortie mène déjà à un bloc")
    page.mouse.up()

    # Several blocks selected: the panel the script writes itself.
    page.get_by_test_id("canvas").focus()
    page.keyboard.press("Control+a")
    expect(panel.locator("h2")).to_have_text("2 blocs sélectionnés")
    expect(panel.get_by_role("button", name="Supprimer")).to_be_visible()

    # The autosave status after a change (Tidy up moves the blocks).
    page.get_by_test_id("tidy").click()
    status = page.get_by_test_id("save-status")
    expect(status).to_have_attribute("data-state", "saved")
    expect(status).to_contain_text("Enregistré · révision")
    screenshot(page, "canvas-fr-panel-and-autosave")
