"""Every page fits a phone (390 px), a small laptop (1024 px) and a desktop (1440 px): the page
itself never scrolls sideways (a wide table scrolls inside its own box), and on the phone the
navigation folds into a menu button that opens it.

One pass over the pages per width, with real data on them: a contact in a list, a segment, a
scenario made from a template, an import, an email in the Mailbox. Screenshots:
test-artifacts/screenshots/screen-<page>-<width>.png.
"""

from __future__ import annotations

import re

import pytest
from sqlmodel import select

from app.clock import utcnow
from app.db import create_db_engine, session_scope
from app.models import Contact, ContactList, ListMembership, MailboxMessage, Scenario, Segment
from app.services.capture.forms import FormIn, create_form, find_form
from app.services.messaging.mailbox import store
from app.services.messaging.unsubscribe import UnsubscribeLinks
from tests.fixtures.browser import LiveServer, log_in, screenshot

pytestmark = pytest.mark.e2e

WIDTHS = {390: 844, 1024: 768, 1440: 900}
# What sticks out past the right edge, to say which element made the page scroll sideways.
OVERFLOW = """() => {
  const width = document.documentElement.clientWidth;
  const wide = [...document.querySelectorAll("body *")].filter((el) => {
    const box = el.getBoundingClientRect();
    return box.width > 0 && box.right > width + 1;
  });
  const leaves = wide.filter((el) => !wide.some((other) => other !== el && el.contains(other)));
  return {
    scroll: document.documentElement.scrollWidth,
    width: window.innerWidth,
    culprits: leaves.slice(0, 5).map((el) => el.tagName.toLowerCase() + "." + el.className),
  };
}"""
LONG_NAME = "Relance des clientes fidèles après leur troisième commande de printemps"


def plant(server: LiveServer) -> dict[str, object]:
    """The data the pages show: long names on purpose, as marketers write them."""
    engine = create_db_engine(server.settings.database_url)
    with session_scope(engine) as session:
        contact = session.exec(select(Contact).where(Contact.email == "fit@example.com")).first()
        if contact is None:
            contact = Contact(
                email="fit@example.com",
                first_name="Marie-Hélène",
                last_name="de La Tour-Dupin",
                phone="+33612345678",
                email_consent=True,
                attributes={"city": "Saint-Rémy-de-Provence", "orders_count": 3},
            )
            session.add(contact)
            newsletter = ContactList(
                key="fit-clients-fideles", name="Clientes fidèles du printemps"
            )
            session.add(newsletter)
            session.add(
                Segment(
                    key="fit-big-buyers",
                    name="Grosses acheteuses",
                    condition={"attribute": "orders_count", "op": "gte", "value": 2},
                )
            )
            session.flush()
            assert contact.id is not None
            assert newsletter.id is not None
            session.add(ListMembership(list_id=newsletter.id, contact_id=contact.id))
            store(
                session,
                [
                    {
                        "outbox_id": None,
                        "contact_id": contact.id,
                        "channel": "email",
                        "message_key": None,
                        "to_address": "Marie-Hélène <fit@example.com>",
                        "from_address": "Maison Lumière <hello@maison.example>",
                        "subject": "Bienvenue chez Maison Lumière, Marie-Hélène : votre cadeau",
                        "html": "<h1>Bonjour</h1><p>" + "Un très long paragraphe. " * 40 + "</p>",
                        "text": "Bonjour " + "texte " * 60,
                        "headers": {"Message-ID": "<fit@127.0.0.1>"},
                        "created_at": contact.created_at,
                    }
                ],
            )
        session.flush()
        contact_id = contact.id
    engine.dispose()
    return {"contact_id": contact_id}


def made_scenario(server: LiveServer, scenario_id: int) -> tuple[str, int]:
    engine = create_db_engine(server.settings.database_url)
    with session_scope(engine) as session:
        scenario = session.get(Scenario, scenario_id)
        assert scenario is not None
        scenario.name = LONG_NAME
        session.add(scenario)
        node_id = scenario.draft["nodes"][0]["id"]
    engine.dispose()
    return node_id, scenario_id


@pytest.fixture(scope="module")
def site(live_server: LiveServer, browser) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Every page to look at, by name, once the data is there."""
    planted = plant(live_server)
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    log_in(page, live_server)
    page.wait_for_url(live_server.url + "/")
    page.goto(live_server.url + "/templates")
    page.get_by_test_id("use-welcome").click()
    page.wait_for_url(re.compile(r"/scenarios/\d+$"))
    node_id, scenario_id = made_scenario(live_server, int(page.url.rsplit("/", 1)[1]))

    page.goto(live_server.url + "/contacts/import")
    page.locator("input[type=file]").set_input_files(
        {
            "name": "clientes-printemps.csv",
            "mimeType": "text/csv",
            "buffer": "email;first_name;city\nzoe@example.com;Zoé;Aix-en-Provence\n".encode(),
        }
    )
    page.get_by_role("button", name="Upload and preview").click()
    page.wait_for_url(re.compile(r"/contacts/imports/\d+$"))
    import_url = page.url.removeprefix(live_server.url)
    context.close()

    engine = create_db_engine(live_server.settings.database_url)
    with session_scope(engine) as session:
        mail_id = session.exec(select(MailboxMessage.id)).first()
        if find_form(session, "fit-signup") is None:
            body = {
                "key": "fit-signup",
                "name": "Inscription à la newsletter Maison Lumière",
                "consent_text": "J’accepte de recevoir la newsletter " * 8,
                "fields": [{"name": "first_name"}, {"name": "birthday"}],
            }
            create_form(session, FormIn.model_validate(body), utcnow())
    engine.dispose()
    contact_id = planted["contact_id"]
    links = UnsubscribeLinks(live_server.url, live_server.settings.resolved_secret_key())
    return {
        "home": "/",
        "scenarios": "/scenarios",
        "templates": "/templates",
        "editor": f"/scenarios/{scenario_id}",
        "stats": f"/scenarios/{scenario_id}/stats",
        "block-contacts": f"/scenarios/{scenario_id}/blocks/{node_id}/contacts",
        "journey": f"/scenarios/{scenario_id}/contacts/{contact_id}",
        "contacts": "/contacts",
        "contact-new": "/contacts/new",
        "contact": f"/contacts/{contact_id}",
        "import": "/contacts/import",
        "import-job": import_url,
        "tracking": "/contacts/tracking",
        "lists": "/lists",
        "list": "/lists/fit-clients-fideles",
        "segments": "/segments",
        "segment-new": "/segments/new",
        "segment": "/segments/fit-big-buyers",
        "messages": "/messages",
        "message-editor": "/messages/new",
        "forms": "/forms",
        "form-new": "/forms/new",
        "form": "/forms/fit-signup",
        "signup-form": "/f/fit-signup",
        "mailbox": "/mailbox",
        "mailbox-message": f"/mailbox/{mail_id}",
        "settings": "/settings",
        "error": "/scenarios/999999",
        "unsubscribe": links.url(int(str(contact_id)), "1:welcome:1").removeprefix(live_server.url),
    }


def fits(page, name: str, width: int) -> None:  # type: ignore[no-untyped-def]
    found = page.evaluate(OVERFLOW)
    screenshot(page, f"screen-{name}-{width}")
    assert found["scroll"] <= found["width"], (
        f"{name} at {width} px scrolls sideways ({found['scroll']} px): {found['culprits']}"
    )


@pytest.mark.parametrize("width", list(WIDTHS))
def test_every_page_fits_the_screen_without_scrolling_sideways(  # type: ignore[no-untyped-def]
    live_server: LiveServer, browser, site: dict[str, str], width: int
) -> None:
    context = browser.new_context(viewport={"width": width, "height": WIDTHS[width]})
    page = context.new_page()
    page.goto(live_server.url + "/login")
    fits(page, "login", width)
    log_in(page, live_server)
    page.wait_for_url(live_server.url + "/")

    problems = []
    for name, path in site.items():
        response = page.goto(live_server.url + path)
        assert response is not None
        assert response.status < 500, f"{name}: {response.status}"
        assert response.ok or name == "error", f"{name} ({path}): {response.status}"
        try:
            fits(page, name, width)
        except AssertionError as exc:
            problems.append(str(exc))
    context.close()
    assert not problems, "\n".join(problems)


def test_on_a_phone_the_navigation_folds_into_a_menu(  # type: ignore[no-untyped-def]
    live_server: LiveServer, browser, site: dict[str, str]
) -> None:
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    log_in(page, live_server)
    page.wait_for_url(live_server.url + "/")
    menu = page.get_by_test_id("nav-toggle")
    templates = page.get_by_test_id("nav-templates")

    expect(menu).to_be_visible()
    expect(menu).to_have_attribute("aria-expanded", "false")
    expect(templates).to_be_hidden()
    # The page's title is the first thing under the bar, at a readable size.
    heading = page.get_by_role("heading", level=1)
    assert float(heading.evaluate("h => parseFloat(getComputedStyle(h).fontSize)")) >= 20

    menu.click()
    expect(menu).to_have_attribute("aria-expanded", "true")
    for section in ("home", "scenarios", "templates", "contacts", "lists", "messages"):
        expect(page.get_by_test_id(f"nav-{section}")).to_be_visible()
    expect(page.get_by_test_id("nav-mailbox")).to_be_visible()
    expect(page.get_by_test_id("nav-settings")).to_be_visible()
    screenshot(page, "screen-nav-open-390")
    page.keyboard.press("Escape")
    expect(templates).to_be_hidden()
    expect(menu).to_be_focused()

    page.keyboard.press("Enter")  # the button, still focused, opens the menu again
    templates.click()
    page.wait_for_url(live_server.url + "/templates")
    expect(page.get_by_role("heading", level=1)).to_have_text("Ready-made scenarios")
    expect(page.get_by_test_id("nav-templates")).to_have_attribute("aria-current", "page")
    context.close()


def test_on_a_wide_screen_the_sidebar_shows_every_section(  # type: ignore[no-untyped-def]
    live_server: LiveServer, browser, site: dict[str, str]
) -> None:
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    log_in(page, live_server)
    page.wait_for_url(live_server.url + "/")
    expect(page.get_by_test_id("nav-toggle")).to_be_hidden()
    page.get_by_test_id("nav-mailbox").click()
    page.wait_for_url(live_server.url + "/mailbox")
    # The whole row opens the message: a click at its right end, far from the subject's words.
    row = page.get_by_test_id("mail-row").first
    box = row.bounding_box()
    assert box is not None
    row.click(position={"x": box["width"] - 12, "y": box["height"] / 2})
    page.wait_for_url(re.compile(r"/mailbox/\d+$"))
    context.close()
