"""The product's pages show what is in the database."""

from __future__ import annotations

import re

from sqlmodel import Session, col, func, select

from app.models import Contact, ContactList, ListMembership
from app.services.account.demo import add_demo_contacts
from tests.fixtures.web import Browser


def test_every_page_of_the_navigation_opens(logged_in: Browser) -> None:
    for path in ["/", "/scenarios", "/contacts", "/lists", "/messages", "/mailbox", "/settings"]:
        response = logged_in.client.get(path)
        assert response.status_code == 200, path
        assert 'aria-current="page"' in response.text, path


def test_empty_pages_say_what_will_appear_there(logged_in: Browser) -> None:
    assert "No scenarios yet" in logged_in.client.get("/scenarios").text
    assert "Nothing sent yet" in logged_in.client.get("/mailbox").text


def test_home_and_lists_count_what_the_database_holds(logged_in: Browser, session: Session) -> None:
    add_demo_contacts(session, contacts=12)
    session.commit()
    contacts = session.exec(select(func.count()).select_from(Contact)).one()
    newsletter = session.exec(
        select(func.count())
        .select_from(ListMembership)
        .join(ContactList, col(ContactList.id) == col(ListMembership.list_id))
        .where(ContactList.key == "newsletter")
    ).one()

    home = logged_in.client.get("/").text
    lists = logged_in.client.get("/lists").text

    figure = rf'<span class="stat-value">{contacts}</span>\s*<span class="stat-label">contacts'
    assert re.search(figure, home)
    row = re.search(r"<code>newsletter</code></td>\s*<td class=\"num\">(\d+)</td>", lists)
    assert row, "the newsletter list is shown"
    assert int(row.group(1)) == newsletter
