"""The Mailbox list: pages of 50 newest first, a search on the recipient and the subject that
keeps to the channel tab and across pages, and rows that open their message wherever clicked."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import pytest
from sqlmodel import Session, func, select

from app.clock import FrozenClock
from app.models import MailboxMessage, User
from app.services.messaging.mailbox import PAGE_SIZE, store
from tests.fixtures.web import Browser

ROW = re.compile(r'<li class="mail-row".*?</li>', re.S)


def mail(n: int, *, channel: str = "email", to: str = "", subject: str = "") -> dict[str, object]:
    return {
        "outbox_id": None,
        "contact_id": None,
        "channel": channel,
        "message_key": None,
        "to_address": to or f"client{n}@example.com",
        "from_address": "Shop <hello@shop.example>",
        "subject": subject if channel == "email" else "",
        "html": "",
        "text": f"Body {n}",
        "headers": {},
        "created_at": FrozenClock().now() + timedelta(minutes=n),
    }


def rows(page: str) -> list[str]:
    return ROW.findall(page)


def subjects(page: str) -> list[str]:
    return [unescape(s) for s in re.findall(r"<strong>(.*?)</strong>", "".join(rows(page)))]


def links(html: str, name: str) -> list[str]:
    """Where the pager's Newer or Older button goes."""
    testid = {"Newer": "mailbox-newer", "Older": "mailbox-older"}[name]
    return [unescape(href) for href in re.findall(f'data-testid="{testid}" href="([^"]*)"', html)]


def test_the_mailbox_shows_fifty_messages_a_page_newest_first(
    logged_in: Browser, session: Session
) -> None:
    store(session, [mail(n, subject=f"Offer {n}") for n in range(1, 2 * PAGE_SIZE + 21)])
    session.commit()

    first = logged_in.client.get("/mailbox").text
    assert len(rows(first)) == PAGE_SIZE
    assert subjects(first)[:2] == ["Offer 120", "Offer 119"]
    assert "120 messages" in first
    assert "Page 1 of 3" in first
    assert links(first, "Older") == ["/mailbox?page=2"]
    assert links(first, "Newer") == []

    second = logged_in.client.get("/mailbox?page=2").text
    assert subjects(second)[0] == "Offer 70"
    assert links(second, "Newer") == ["/mailbox"]
    assert links(second, "Older") == ["/mailbox?page=3"]

    last = logged_in.client.get("/mailbox?page=3").text
    assert len(rows(last)) == 20
    assert subjects(last)[-1] == "Offer 1"
    # A page past the end (an old bookmark) shows the last one rather than nothing.
    assert subjects(logged_in.client.get("/mailbox?page=40").text) == subjects(last)


def test_the_search_finds_the_recipient_or_the_subject_within_the_channel(
    logged_in: Browser, session: Session
) -> None:
    store(
        session,
        [
            mail(1, to="Léa <lea@example.com>", subject="Your cart is waiting"),
            mail(2, to="tom@example.com", subject="Léa recommends this"),
            mail(3, to="ana@example.com", subject="Welcome"),
            mail(4, channel="sms", to="+33612345678"),
            mail(5, to="100%@example.com", subject="Half price"),
        ],
    )
    session.commit()
    get = logged_in.client.get

    assert subjects(get("/mailbox?q=LÉA").text) == ["Léa recommends this", "Your cart is waiting"]
    assert subjects(get("/mailbox?q=cart").text) == ["Your cart is waiting"]
    assert subjects(get("/mailbox?q=%20welcome%20").text) == ["Welcome"]
    assert len(rows(get("/mailbox?q=%2B336").text)) == 1
    assert rows(get("/mailbox?channel=email&q=%2B336").text) == []
    # The words are looked for as typed: % and _ are not wildcards.
    assert subjects(get("/mailbox?q=%25").text) == ["Half price"]
    assert rows(get("/mailbox?q=_").text) == []

    found = get("/mailbox?channel=email&q=léa").text
    assert "2 messages" in found
    assert 'name="q" value="léa"' in found
    assert '<input type="hidden" name="channel" value="email">' in found
    # The tabs keep the search; "Clear" keeps the tab.
    assert 'href="/mailbox?channel=sms&amp;q=l%C3%A9a"' in found
    assert re.search(r'href="/mailbox\?channel=email">Clear<', found)

    nothing = get("/mailbox?q=nobody-here").text
    assert "No message matches" in nothing
    assert "nobody-here" in nothing


def test_paging_keeps_the_search_and_the_channel(logged_in: Browser, session: Session) -> None:
    store(session, [mail(n, subject=f"Spring sale {n}") for n in range(1, PAGE_SIZE + 6)])
    store(session, [mail(100 + n, subject=f"Receipt {n}") for n in range(1, 30)])
    session.commit()

    first = logged_in.client.get("/mailbox?channel=email&q=spring").text
    assert "55 messages" in first
    assert links(first, "Older") == ["/mailbox?channel=email&q=spring&page=2"]
    second = logged_in.client.get(links(first, "Older")[0]).text
    assert subjects(second) == [f"Spring sale {n}" for n in range(5, 0, -1)]
    assert links(second, "Newer") == ["/mailbox?channel=email&q=spring"]


def test_each_row_opens_its_message_through_one_link(logged_in: Browser, session: Session) -> None:
    store(session, [mail(1, subject="Your cart"), mail(2, channel="sms", to="+33600000000")])
    session.commit()
    ids = session.exec(select(MailboxMessage.id).order_by(MailboxMessage.id.desc())).all()  # type: ignore[union-attr]

    listed = rows(logged_in.client.get("/mailbox").text)

    assert [re.findall(r'href="([^"]+)"', row) for row in listed] == [
        [f"/mailbox/{mail_id}"] for mail_id in ids
    ]
    # The SMS has no subject: its text names the link.
    assert "Body 2" in listed[0]
    for mail_id in ids:
        assert logged_in.client.get(f"/mailbox/{mail_id}").status_code == 200


@pytest.mark.parametrize("query", ["q=" + "x" * 201, "page=abc", "page=-1"])
def test_odd_mailbox_addresses_get_a_clear_answer(
    logged_in: Browser, session: Session, query: str
) -> None:
    store(session, [mail(1, subject="Hello")])
    session.commit()

    response = logged_in.client.get("/mailbox?" + query)

    assert response.status_code in (200, 422)
    if query == "page=-1":
        assert subjects(response.text) == ["Hello"]
    else:
        assert response.status_code == 422
    assert session.exec(select(func.count()).select_from(MailboxMessage)).one() == 1


def test_a_french_user_searches_and_pages_the_mailbox_in_french(
    logged_in: Browser, session: Session, user: User
) -> None:
    user.language = "fr"
    session.add(user)
    store(session, [mail(n, subject=f"Offre {n}") for n in range(1, PAGE_SIZE + 2)])
    session.commit()

    page = logged_in.client.get("/mailbox?page=2").text
    assert "Rechercher" in page
    assert "Chercher un destinataire ou un objet" in page
    assert "Plus récents" in page
    assert "Page 2 sur 2" in page
    assert "51 messages" in page
    nothing = logged_in.client.get("/mailbox?q=personne").text
    assert "Aucun message ne correspond" in nothing
    assert "« personne »" in nothing or "“personne”" in nothing
