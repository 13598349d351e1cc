"""The contacts pages at scale: 1M contacts, a list of 300k, pages deep in the base.

Bulk-inserts BENCH_SCALE_CONTACTS contacts (default 1,000,000) into a fresh SQLite database
(and PostgreSQL when PARCOURS_BENCH_POSTGRES_URL or PARCOURS_TEST_POSTGRES_URL is set), then
times what the pages do: a keyset page deep in the base against the OFFSET page a naive
paginator would ask for (the baseline, same run), a list's member count and its pages, an email
search and a segment count.
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parents[1]))

from sqlalchemy import insert, select, text
from sqlmodel import Session

from app.clock import utcnow
from app.db import create_db_engine
from app.graph import parse_condition
from app.migrate import upgrade
from app.models import ContactList
from app.services.contacts.condition_sql import CONTACTS
from app.services.contacts.contacts import new_contact_row
from app.services.contacts.lists import member_count
from app.services.contacts.search import ContactFilter, search_contacts
from app.services.contacts.segments import count_members
from bench._databases import on_each_database

TOTAL = int(os.environ.get("BENCH_SCALE_CONTACTS", "1000000"))
IN_LIST = 0.3
CHUNK = 20_000
CITIES = ["Paris", "Lyon", "Nantes", "Lille", "Nice", "Rennes"]


def fill(engine: Any) -> int:
    rng = random.Random(4)
    now = utcnow()
    with Session(engine) as session:
        newsletter = ContactList(key="newsletter", name="Newsletter")
        session.add(newsletter)
        session.commit()
        list_id = newsletter.id
        assert list_id is not None
    for start in range(0, TOTAL, CHUNK):
        rows = [
            new_contact_row(
                now,
                email=f"person{n:07d}@scale.example",
                first_name=f"First{n % 5000}",
                last_name=f"Last{n % 7919}",
                score=n % 100,
                attributes={"city": rng.choice(CITIES), "orders": n % 9},
                email_consent=n % 4 != 0,
            )
            for n in range(start, min(TOTAL, start + CHUNK))
        ]
        with engine.begin() as conn:
            conn.execute(insert(CONTACTS), rows)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO list_memberships (list_id, contact_id, added_at, source) "
                "SELECT :list, id, :now, 'bench' FROM contacts WHERE id % 10 < :share"
            ),
            {"list": list_id, "now": now.replace(tzinfo=None), "share": int(IN_LIST * 10)},
        )
        conn.execute(text("ANALYZE"))
    return list_id


def timed(label: str, action: Callable[[], object], repeat: int = 5) -> float:
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        runs.append(time.perf_counter() - start)
    best = statistics.median(runs) * 1000
    print(f"  {label:<52} {best:9.1f} ms")
    return best


def run(label: str, url: str) -> None:
    upgrade(url)
    engine = create_db_engine(url)
    start = time.perf_counter()
    list_id = fill(engine)
    print(f"{label}: {TOTAL:,} contacts inserted in {time.perf_counter() - start:.0f} s")
    now = utcnow()
    middle = TOTAL // 2
    with Session(engine) as session:
        everyone = ContactFilter()
        timed(
            "contacts page 1 (with the total count)",
            lambda: search_contacts(session, everyone, now, before=None),
        )
        keyset = timed(
            "contacts page at the middle, keyset (id < cursor)",
            lambda: session.execute(
                select(CONTACTS)
                .where(CONTACTS.c.id < middle)
                .order_by(CONTACTS.c.id.desc())
                .limit(50)
            ).all(),
        )
        offset = timed(
            "same page with OFFSET (baseline)",
            lambda: session.execute(
                select(CONTACTS).order_by(CONTACTS.c.id.desc()).offset(TOTAL - middle).limit(50)
            ).all(),
        )
        print(f"  {'keyset vs OFFSET':<52} x{offset / keyset:,.0f} faster")
        in_list = ContactFilter(scope="list:newsletter")
        timed("list member count (300k members)", lambda: member_count(session, list_id))
        timed(
            "list page 1 (with its count)",
            lambda: search_contacts(session, in_list, now, before=None),
        )
        timed(
            "list page at the middle", lambda: search_contacts(session, in_list, now, before=middle)
        )
        timed(
            "search by email prefix",
            lambda: search_contacts(session, ContactFilter(q="person0500"), now, before=None),
        )
        timed(
            "search by last name (rare)",
            lambda: search_contacts(session, ContactFilter(q="Last7918"), now, before=None),
        )
        lyon = parse_condition(
            {
                "all": [
                    {"attribute": "city", "op": "eq", "value": "Lyon"},
                    {"attribute": "orders", "op": "gte", "value": 5},
                ]
            }
        )
        timed(
            "segment count (city = Lyon and orders ≥ 5), whole base",
            lambda: count_members(session, lyon, now),
            repeat=3,
        )
        consent = parse_condition({"consent": "email", "op": "granted"})
        timed(
            "segment count (email consent), whole base",
            lambda: count_members(session, consent, now),
            repeat=3,
        )
        timed(
            "segment page 1 (city = Lyon and orders ≥ 5)",
            lambda: search_contacts(
                session, ContactFilter(attribute="city", value="Lyon"), now, before=None
            ),
        )
    engine.dispose()


def main() -> None:
    on_each_database(run, "scale")


if __name__ == "__main__":
    main()
