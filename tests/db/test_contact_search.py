"""The contacts page's keyset pages visit every matching contact exactly once, newest first."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel import Session

from app.models import ContactList, Segment
from app.services.contacts import search as contact_search
from app.services.contacts.contacts import upsert_contact
from app.services.contacts.fields import ContactData
from app.services.contacts.lists import add_members
from app.services.contacts.search import ContactFilter, search_contacts
from app.services.errors import Invalid

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def base(session: Session, monkeypatch: pytest.MonkeyPatch) -> dict[str, list[int]]:
    monkeypatch.setattr(contact_search, "PAGE_SIZE", 7)  # many pages from a small base
    ids = []
    for n in range(60):
        data = ContactData(
            fields={"email": f"c{n:03d}@x.example", "last_name": "Martin" if n % 4 else "Durand"},
            attributes={"orders": n % 5},
        )
        ids.append(upsert_contact(session, data, now=NOW, source="test").contact.id)
    vip = ContactList(key="vip", name="VIP")
    session.add(vip)
    session.add(
        Segment(key="big", name="Big", condition={"attribute": "orders", "op": "gte", "value": 3})
    )
    session.flush()
    members = [cid for i, cid in enumerate(ids) if i % 3 == 0]
    add_members(session, [vip], members, now=NOW, source="test")
    return {"all": ids, "vip": members, "big": [c for i, c in enumerate(ids) if i % 5 >= 3]}


def walk(session: Session, wanted: ContactFilter) -> list[int]:
    seen: list[int] = []
    before = None
    while True:
        page = search_contacts(session, wanted, NOW, before=before)
        seen += [c.id for c in page.contacts]  # type: ignore[misc]
        if page.next_cursor is None:
            return seen
        before = page.next_cursor


@pytest.mark.parametrize(
    ("wanted", "expected"),
    [
        (ContactFilter(), "all"),
        (ContactFilter(scope="list:vip"), "vip"),
        (ContactFilter(scope="segment:big"), "big"),
        (ContactFilter(attribute="orders", op="gte", value="3"), "big"),
    ],
)
def test_keyset_pages_cover_every_match_once_newest_first(
    session: Session, base: dict[str, list[int]], wanted: ContactFilter, expected: str
) -> None:
    assert walk(session, wanted) == sorted(base[expected], reverse=True)


def test_a_list_shows_its_size_and_the_base_its_total(
    session: Session, base: dict[str, list[int]]
) -> None:
    assert search_contacts(session, ContactFilter(), NOW, before=None).total == 60
    in_list = search_contacts(session, ContactFilter(scope="list:vip"), NOW, before=None)
    assert in_list.total == len(base["vip"])
    assert in_list.scope_name == "VIP"


def test_text_search_matches_email_prefixes_and_names(
    session: Session, base: dict[str, list[int]]
) -> None:
    by_email = walk(session, ContactFilter(q="C01"))
    by_full_email = walk(session, ContactFilter(q="c010@x.example"))
    by_name = walk(session, ContactFilter(q="duR"))
    combined = walk(session, ContactFilter(q="dur", scope="list:vip"))

    assert by_email == sorted(base["all"][10:20], reverse=True)
    assert by_full_email == [base["all"][10]]
    assert by_name == sorted(base["all"][::4], reverse=True)
    assert combined == sorted(set(base["all"][::4]) & set(base["vip"]), reverse=True)


@pytest.mark.parametrize(
    ("wanted", "words"),
    [
        (ContactFilter(scope="list:nope"), "no list"),
        (ContactFilter(scope="segment:nope"), "no segment"),
        (ContactFilter(attribute="orders", op="gt", value="many"), "needs a number"),
        (ContactFilter(attribute="orders", op="eq", value=""), "needs a value"),
    ],
)
def test_impossible_filters_say_why(
    session: Session, base: dict[str, list[int]], wanted: ContactFilter, words: str
) -> None:
    with pytest.raises(Invalid, match=words):
        search_contacts(session, wanted, NOW, before=None)
