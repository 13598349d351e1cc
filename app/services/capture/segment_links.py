"""Anonymous ids and their contacts: links, waiting events, and moving them (DESIGN §12.1).

A link is kept per anonymous id (the latest message that names it with a person wins: a shared
device now belongs to whoever logged in last). When a batch names a linked anonymous id, the
events still waiting under it move to ``events`` in the same transaction — so a wait that lost
a race with the link (an anonymous event stored while the identify was being written) is
healed by the visitor's next message.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, SQLModel

from app.bulk import among, insert_missing_rows, is_postgres
from app.services.contacts.contacts import (
    CONTACTS,
    EVENTS,
)
from app.services.contacts.events import EventIn

LINKS = SQLModel.metadata.tables["anonymous_links"]
WAITING = SQLModel.metadata.tables["anonymous_events"]


class KnownLinks:
    """The links this process read or wrote lately, so a browser's every message (which names
    both its userId and its anonymousId) costs no lookup once its link is known. Kept for
    ``ttl`` seconds: a link moved meanwhile by another process is seen within that time."""

    def __init__(self, ttl: float = 60.0, size: int = 100_000) -> None:
        self.ttl, self.size = ttl, size
        self._links: dict[str, tuple[float, tuple[int, str | None]]] = {}

    def get(self, anonymous_ids: Iterable[str]) -> dict[str, tuple[int, str | None]]:
        moment = time.monotonic()
        found = {}
        for anonymous_id in anonymous_ids:
            hit = self._links.get(anonymous_id)
            if hit is not None and hit[0] > moment:
                found[anonymous_id] = hit[1]
        return found

    def put(self, links: dict[str, tuple[int, str | None]]) -> None:
        if len(self._links) + len(links) > self.size:
            self._links.clear()  # simpler than an LRU, and a miss only costs one lookup
        until = time.monotonic() + self.ttl
        self._links.update({a: (until, link) for a, link in links.items()})


def linked_contacts(
    session: Session, anonymous_ids: Iterable[str]
) -> dict[str, tuple[int, str | None]]:
    """anonymous id -> (contact id, that contact's external id), for the linked ones."""
    wanted = list(anonymous_ids)
    if not wanted:
        return {}
    query = (
        select(LINKS.c.anonymous_id, LINKS.c.contact_id, CONTACTS.c.external_id)
        .join(CONTACTS, CONTACTS.c.id == LINKS.c.contact_id)
        .where(among(session, LINKS.c.anonymous_id, wanted))
    )
    return {anonymous: (cid, external) for anonymous, cid, external in session.execute(query)}


def link(session: Session, links: dict[str, int], now: datetime) -> None:
    """Records (or moves) each anonymous id's link to its contact."""
    if not links:
        return
    insert = pg_insert if is_postgres(session) else sqlite_insert
    statement = insert(LINKS)
    statement = statement.on_conflict_do_update(
        index_elements=["anonymous_id"],
        set_={
            "contact_id": statement.excluded.contact_id,
            "linked_at": statement.excluded.linked_at,
        },
    )
    rows = [
        {"anonymous_id": a, "contact_id": c, "linked_at": now} for a, c in sorted(links.items())
    ]
    session.execute(statement, rows)


def move_waiting(session: Session, links: dict[str, int], now: datetime) -> int:
    """Moves the events waiting under these anonymous ids to their contacts; how many."""
    if not links:
        return 0
    taken = session.execute(
        delete(WAITING)
        .where(among(session, WAITING.c.anonymous_id, list(links)))
        .returning(
            WAITING.c.uid,
            WAITING.c.anonymous_id,
            WAITING.c.name,
            WAITING.c.properties,
            WAITING.c.occurred_at,
        )
    ).all()
    rows = [
        {
            "uid": uid,
            "contact_id": links[anonymous],
            "name": name,
            "properties": properties,
            "occurred_at": occurred_at,
            "received_at": now,
            "processed_at": None,
        }
        for uid, anonymous, name, properties, occurred_at in taken
    ]
    rows.sort(key=lambda row: row["uid"])  # in key order: concurrent calls cannot deadlock
    insert_missing_rows(session, EVENTS, rows, unique=["uid"], returning=["id"])
    return len(rows)


def wait(session: Session, waiting: Sequence[tuple[str, EventIn]], now: datetime) -> None:
    """Keeps events of anonymous ids nobody has linked yet (a retried one waits once)."""
    rows: list[dict[str, Any]] = [
        {
            "uid": event.id,
            "anonymous_id": anonymous,
            "name": event.name,
            "properties": event.properties,
            "occurred_at": event.occurred_at or now,
            "received_at": now,
        }
        for anonymous, event in sorted(waiting, key=lambda pair: pair[1].id or "")
    ]
    insert_missing_rows(session, WAITING, rows, unique=["uid"], returning=["id"])
