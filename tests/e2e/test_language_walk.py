"""The issue's "done when": a French user goes from login to a live scenario, its statistics
and a contact's journey without meeting an English word, and an English user sees no French.

Each page's visible text is read whole (document.body.innerText) and checked against words
that exist in only one of the two languages; what the user typed or the shop sent (emails,
event names) is left out. Screenshots: test-artifacts/screenshots/language-*.png.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from redis import Redis

from app.db import create_db_engine, session_scope
from app.services.account.users import create_user
from tests.e2e.test_live_counters import api_key, run_engine
from tests.fixtures.browser import LiveServer, screenshot, started_server

pytestmark = pytest.mark.e2e

# Words a French page never shows (and that are not French words too: no "on", "or", "a").
ENGLISH_ONLY = frozenset(
    """the and with your you this that from for will has have was were when then which what
    there here save delete cancel edit add new settings search yes back next open close block
    blocks list lists day days hour hours week weeks show hide all none more less home log
    out sent entered left waiting scenario scenarios draft live paused activate trigger wait
    until after before since about of to is are not no by it its they them their who how
    step steps needs happened times time reached goal mailbox statistics journey
    people keys key password name email subject preview created updated last first status
    active""".split()  # noqa: SIM905 - a paragraph of words reads better than a list
)
# Words an English page never shows.
FRENCH_ONLY = frozenset(
    """le la les des du une vous votre vos avec pour dans sur aucun aucune est sont pas
    enregistrer paramètres accueil scénario scénarios déclencheur listes modèles modèle
    statistiques attente oui non ajouter supprimer modifier annuler rechercher
    entrés sortis envoyés brouillon actif activer mot passe se connecter
    déconnecter jours heures fois objectif""".split()  # noqa: SIM905
)
WORD = re.compile(r"[^\W\d_]+(?:['\u2019-][^\W\d_]+)*")


def foreign_words(text: str, forbidden: frozenset[str]) -> set[str]:
    """The forbidden words of a page's text, leaving out emails, URLs, event names and
    abbreviations (time zones such as EST)."""
    kept = " ".join(
        token
        for token in text.split()
        if not re.search(r"[@/_\d]|^\W*[a-z]+\.[a-z]", token) and not token.isupper()
    )
    return {word for word in WORD.findall(kept.lower()) if word in forbidden}


def make_user(server: LiveServer, language: str) -> tuple[str, str]:
    email, password = f"{language}-{uuid.uuid4().hex[:6]}@parcours.test", "walk-password-1234"
    engine = create_db_engine(server.settings.database_url)
    with session_scope(engine) as session:
        user = create_user(session, email=email, password=password, name="Camille")
        user.language, user.time_zone = language, "Europe/Paris"
        session.add(user)
    engine.dispose()
    return email, password


def walk(server: LiveServer, browser, language: str, forbidden: frozenset[str]) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    email, password = make_user(server, language)
    locale = "fr-FR" if language == "fr" else "en-US"
    context = browser.new_context(viewport={"width": 1360, "height": 860}, locale=locale)
    page = context.new_page()
    seen: dict[str, set[str]] = {}

    def check(name: str) -> None:
        page.wait_for_load_state("networkidle")
        expect(page.locator("html")).to_have_attribute("lang", language)
        found = foreign_words(page.locator("body").inner_text(), forbidden)
        if found:
            seen[name] = found
        screenshot(page, f"language-{language}-{name}")

    page.goto(server.url + "/login")
    check("login")
    page.locator("input[name=email]").fill(email)
    page.locator("input[name=password]").fill(password)
    page.locator("form button[type=submit]").click()
    page.wait_for_url(server.url + "/")
    check("home")
    for path in ("/scenarios", "/contacts", "/lists", "/messages", "/mailbox", "/settings"):
        page.goto(server.url + path)
        check(path.strip("/"))

    page.goto(server.url + "/templates")
    check("templates")
    page.get_by_test_id("use-loyal_customers").click()
    page.wait_for_url(re.compile(r"/scenarios/\d+$"))
    scenario_id = int(page.url.rsplit("/", 1)[1])
    expect(page.get_by_test_id("canvas")).to_be_visible()
    check("canvas")
    page.locator(".node").first.dblclick()
    expect(page.get_by_test_id("panel")).to_be_visible()
    check("canvas-panel")
    page.get_by_test_id("activate").click()
    expect(page.get_by_test_id("pause")).to_be_visible()
    check("canvas-live")

    key = api_key(server)
    tag = uuid.uuid4().hex[:6]
    with httpx.Client(
        base_url=server.url + "/api/v1", headers={"Authorization": f"Bearer {key}"}
    ) as api:
        for who in ("new", "regular", "regular"):
            sent = api.post(
                "/events",
                json={
                    "name": "purchase",
                    "contact": {"email": f"{who}-{language}-{tag}@shop.test"},
                    "properties": {"amount": 30},
                },
            )
            assert sent.status_code == 202, sent.text
    run_engine(server)

    page.goto(f"{server.url}/scenarios/{scenario_id}/stats")
    check("stats")
    page.goto(f"{server.url}/scenarios/{scenario_id}/versions")
    check("history")
    page.goto(f"{server.url}/scenarios/{scenario_id}/versions/1")
    check("version-read-only")
    page.goto(f"{server.url}/scenarios/{scenario_id}/blocks/first/contacts?show=no")
    check("block-contacts")
    page.get_by_role("link", name=f"regular-{language}-{tag}@shop.test").first.click()
    page.wait_for_url(re.compile(r"/journey|/contacts/\d+"))
    check("journey")
    context.close()
    assert not seen, f"words of the other language on {language} pages: {seen}"


@pytest.fixture
def own_server(redis_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    """A server of the walk's own: what another walk created in its language (scenario, list
    and message names) is user data, and would read as the other language here. Redis starts
    empty too: live counters are kept there by scenario id, which starts at 1 again."""
    with Redis.from_url(redis_url) as redis:
        redis.flushdb()
    with started_server(tmp_path, redis_url) as server:
        yield server


def test_a_french_user_meets_no_english_word(own_server: LiveServer, browser) -> None:  # type: ignore[no-untyped-def]
    walk(own_server, browser, "fr", ENGLISH_ONLY)


def test_an_english_user_meets_no_french_word(own_server: LiveServer, browser) -> None:  # type: ignore[no-untyped-def]
    walk(own_server, browser, "en", FRENCH_ONLY)
