"""Loading what conditions look at, for a chunk of contacts, in three queries.

The engine evaluates a condition block for a whole chunk at once: it loads the facts here
(contacts, their lists, and only the events the condition counts), then asks
``app.graph.explain`` for each contact, which gives the result *and* the explanation that goes
into the trace. No query per contact.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, SQLModel

from app.bulk import among
from app.graph import ContactFacts, EventFact, Explanation, explain_many
from app.graph.coercion import shifted
from app.graph.conditions import Condition, EventCondition, ListCondition, walk
from app.services.contacts.condition_sql import BUILTIN_KINDS

CONTACTS = SQLModel.metadata.tables["contacts"]
EVENTS = SQLModel.metadata.tables["events"]
LISTS = SQLModel.metadata.tables["lists"]
MEMBERSHIPS = SQLModel.metadata.tables["list_memberships"]
NO_LISTS: frozenset[str] = frozenset()


def event_windows(conditions: Iterable[Condition], now: datetime) -> dict[str, datetime | None]:
    """Event name -> the oldest occurrence any of the conditions may count (None: all time)."""
    windows: dict[str, datetime | None] = {}
    for condition in conditions:
        for node in walk(condition):
            if not isinstance(node, EventCondition):
                continue
            since = (
                shifted(now, -timedelta(days=node.within_days or 0)) if node.within_days else None
            )
            if node.event in windows:
                current = windows[node.event]
                since = None if current is None or since is None else min(current, since)
            windows[node.event] = since
    return windows


def load_facts(
    session: Session,
    contact_ids: Sequence[int],
    conditions: Iterable[Condition],
    now: datetime,
    contacts: Mapping[int, Mapping[Any, Any]] | None = None,
) -> dict[int, ContactFacts]:
    """``contacts``: the contacts' rows when the caller has them already."""
    ids = list(contact_ids)
    conditions = list(conditions)
    if contacts is None:
        query = select(CONTACTS).where(among(session, CONTACTS.c.id, ids))
        rows: Sequence[Mapping[Any, Any]] = session.execute(query).mappings().all()
    else:
        rows = [contacts[contact_id] for contact_id in ids if contact_id in contacts]

    lists: dict[int, set[str]] = defaultdict(set)
    if any(isinstance(node, ListCondition) for c in conditions for node in walk(c)):
        for contact_id, key in session.execute(
            select(MEMBERSHIPS.c.contact_id, LISTS.c.key)
            .join(LISTS, LISTS.c.id == MEMBERSHIPS.c.list_id)
            .where(among(session, MEMBERSHIPS.c.contact_id, ids))
        ):
            lists[contact_id].add(key)

    events: dict[int, list[EventFact]] = defaultdict(list)
    windows = event_windows(conditions, now)
    if windows:
        oldest = None if None in windows.values() else min(w for w in windows.values() if w)
        query = select(
            EVENTS.c.contact_id, EVENTS.c.name, EVENTS.c.occurred_at, EVENTS.c.properties
        ).where(
            among(session, EVENTS.c.contact_id, ids),
            EVENTS.c.name.in_(list(windows)),
            EVENTS.c.occurred_at <= now,
        )
        if oldest is not None:
            query = query.where(EVENTS.c.occurred_at >= oldest)
        for contact_id, name, occurred_at, properties in session.execute(query):
            events[contact_id].append(EventFact(name, occurred_at, properties or {}))

    facts: dict[int, ContactFacts] = {}
    for row in rows:
        contact_id = row["id"]
        facts[contact_id] = ContactFacts(
            ContactAttributes(row),
            frozenset(lists[contact_id]) if contact_id in lists else NO_LISTS,
            {"email": bool(row["email_consent"]), "sms": bool(row["sms_consent"])},
            events.get(contact_id, ()),
        )
    return facts


class ContactAttributes(Mapping[str, Any]):
    """A contact row's custom attributes, overlaid by the built-in fields (which win on a name
    clash), read on demand: a condition looks at one or two of them."""

    __slots__ = ("_row",)

    def __init__(self, row: Mapping[Any, Any]) -> None:
        self._row = row

    def __getitem__(self, name: str) -> Any:
        if name in BUILTIN_KINDS:
            return self._row[name]
        return (self._row["attributes"] or {})[name]

    def __iter__(self) -> Iterator[str]:
        return iter({**(self._row["attributes"] or {}), **dict.fromkeys(BUILTIN_KINDS)})

    def __len__(self) -> int:
        return sum(1 for _ in self)


def explain_chunk(
    session: Session, condition: Condition, contact_ids: Sequence[int], now: datetime
) -> dict[int, Explanation]:
    return explain_many(condition, load_facts(session, contact_ids, [condition], now), now)
