"""The sidebar: every section a link named nav-<section> (the gallery of ready-made scenarios
among them), the current one marked, and a menu button for phones — in both languages."""

from __future__ import annotations

import re

from sqlmodel import Session

from app.models import User
from tests.fixtures.web import Browser

SECTIONS = {
    "home": "/",
    "scenarios": "/scenarios",
    "templates": "/templates",
    "contacts": "/contacts",
    "lists": "/lists",
    "messages": "/messages",
    "forms": "/forms",
    "mailbox": "/mailbox",
    "settings": "/settings",
}


def nav_links(page: str) -> dict[str, str]:
    return dict(
        (testid, href)
        for href, testid in re.findall(r'<a href="([^"]*)" data-testid="nav-([a-z]+)"', page)
    )


def test_every_section_is_one_link_away_and_the_current_one_is_marked(
    logged_in: Browser,
) -> None:
    for section, path in SECTIONS.items():
        page = logged_in.client.get(path).text
        assert nav_links(page) == SECTIONS
        current = re.findall(r'data-testid="nav-([a-z]+)" class="active" aria-current="page"', page)
        assert current == [section]
    home = logged_in.client.get("/").text
    assert ">Templates</span></a>" in home
    assert 'data-testid="nav-toggle"' in home
    assert 'aria-controls="sidebar-menu"' in home
    assert 'aria-expanded="false"' in home


def test_a_french_user_reads_the_navigation_in_french(
    logged_in: Browser, session: Session, user: User
) -> None:
    user.language = "fr"
    session.add(user)
    session.commit()

    page = logged_in.client.get("/").text

    for word in ("Accueil", "Scénarios", "Modèles", "Contacts", "Listes", "Boîte d’envoi"):
        assert f"<span>{word}</span></a>" in page, word
    assert "<span>Menu</span>" in page
    assert nav_links(page) == SECTIONS
