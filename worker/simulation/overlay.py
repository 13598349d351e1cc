"""The overlay: a throw-away database a chunk of the simulation runs in (CONTRACTS-2 §A).

It holds a copy of what the engine reads for the chunk's contacts — their rows, list
memberships and events, the lists and messages, and the scenario as an active one whose live
version is the plan being tried — and every write the engine makes there is thrown away with
it. The real database is only read.

It is a scratch SQLite file with no journal and no sync, not ``sqlite://`` in memory: its
pages live in the operating system's cache instead of this process, so a chunk of tens of
thousands of contacts (few chunks, so few passes of the engine per moment of virtual time)
keeps the worker's memory flat. The replayed events wait in a table of their own
(``pending``) and are moved into ``events`` by SQL as virtual time reaches them, rather than
held in Python.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Column, Engine, MetaData, Table, event, func, insert, select
from sqlmodel import Session, SQLModel

from app.db import create_db_engine
from app.graph import Plan
from app.services.scenarios.enrollments import Candidate, enroll

T = SQLModel.metadata.tables
CONTACTS, EVENTS, LISTS, MEMBERSHIPS = T["contacts"], T["events"], T["lists"], T["list_memberships"]
MESSAGES, SCENARIOS, VERSIONS = T["message_templates"], T["scenarios"], T["scenario_versions"]
ENROLLMENTS = T["enrollments"]
TOPICS, CONTACT_TOPICS = T["topics"], T["contact_topics"]
SIMULATED_SCENARIO_ID, SIMULATED_VERSION_ID = 1, 1
COPY_BATCH = 2_000  # contact ids per read of the real database (bounded IN lists and rows)

# The overlay's own table: the window's events not yet reached by virtual time, in the
# events table's shape, with their id in the real database (``real_id``): the order they
# reached us in is (received_at, real_id).
_PENDING_METADATA = MetaData()
PENDING = Table(
    "pending",
    _PENDING_METADATA,
    Column("real_id", EVENTS.c.id.type, primary_key=True),
    *(Column(c.name, c.type, index=c.name == "received_at") for c in EVENTS.c if c.name != "id"),
)
EVENT_COLUMNS = [c.name for c in EVENTS.c if c.name != "id"]


@contextmanager
def overlay() -> Iterator[Engine]:
    """A fresh overlay with the schema (and SQLite's condition functions, registered on
    connect), removed with its folder afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="parcours-simulation-"))
    engine = create_db_engine(f"sqlite:///{folder}/overlay.db")

    @event.listens_for(engine, "connect")
    def _scratch(dbapi_connection: Any, _record: Any) -> None:
        # Nothing here outlives the chunk: no journal, no sync, a small page cache.
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=OFF")
        cursor.execute("PRAGMA synchronous=OFF")
        cursor.execute("PRAGMA cache_size=-8000")
        cursor.close()

    try:
        SQLModel.metadata.create_all(engine)
        _PENDING_METADATA.create_all(engine)
        yield engine
    finally:
        engine.dispose()
        shutil.rmtree(folder, ignore_errors=True)


def _rows(session: Session, query: Any) -> list[dict[str, Any]]:
    return [dict(row._mapping) for row in session.execute(query)]


def _batches(ids: list[int]) -> Iterator[list[int]]:
    for first in range(0, len(ids), COPY_BATCH):
        yield ids[first : first + COPY_BATCH]


def copy_chunk(
    real: Session, overlay: Session, plan: Plan, contact_ids: list[int], start: datetime,
    as_of: datetime,
) -> None:  # fmt: skip
    """Copies what the engine reads. Events that reached us by ``start`` are history
    (already matched); those after it, up to ``as_of``, go to ``pending``, to be let in as
    virtual time reaches them (``arrive``)."""
    for table in (LISTS, TOPICS, MESSAGES):  # topics first: messages name them
        rows = _rows(real, select(table))
        if rows:
            overlay.execute(insert(table), rows)
    overlay.execute(
        insert(SCENARIOS),
        [{"id": SIMULATED_SCENARIO_ID, "name": "simulation", "description": "",
          "status": "active", "draft": {}, "draft_revision": 1, "live_version": 1,
          "created_at": start, "updated_at": start, "activated_at": start}],
    )  # fmt: skip
    overlay.execute(
        insert(VERSIONS),
        [{"id": SIMULATED_VERSION_ID, "scenario_id": SIMULATED_SCENARIO_ID, "number": 1,
          "graph": {}, "plan": plan.model_dump(mode="json", by_alias=True),
          "published_at": start}],
    )  # fmt: skip
    # An event no trigger, wait or goal of the plan hears changes nothing when it comes (the
    # matcher would pass over it): it is let in already matched, for the conditions that
    # count such events.
    heard = plan.events_heard()
    for batch in _batches(contact_ids):
        contacts = _rows(real, select(CONTACTS).where(CONTACTS.c.id.in_(batch)))
        if not contacts:
            continue
        overlay.execute(insert(CONTACTS), contacts)
        present = [row["id"] for row in contacts]
        memberships = _rows(real, select(MEMBERSHIPS).where(MEMBERSHIPS.c.contact_id.in_(present)))
        if memberships:
            overlay.execute(insert(MEMBERSHIPS), memberships)
        # The topics they left: the engine skips those emails there as it would here.
        left = _rows(real, select(CONTACT_TOPICS).where(CONTACT_TOPICS.c.contact_id.in_(present)))
        if left:
            overlay.execute(insert(CONTACT_TOPICS), left)
        events = _rows(
            real,
            select(EVENTS).where(EVENTS.c.contact_id.in_(present), EVENTS.c.received_at <= as_of),
        )
        history = [
            {**e, "processed_at": e["received_at"]} for e in events if e["received_at"] <= start
        ]
        if history:
            overlay.execute(insert(EVENTS), history)
        replayed = [
            {**{k: v for k, v in e.items() if k != "id"}, "real_id": e["id"],
             "processed_at": None if e["name"] in heard else e["received_at"]}
            for e in events if e["received_at"] > start
        ]  # fmt: skip
        if replayed:
            overlay.execute(insert(PENDING), replayed)


def heard_moments(overlay: Session) -> list[datetime]:
    """When an event the plan hears reaches us, in order (the moments the engine must run)."""
    query = (
        select(PENDING.c.received_at)
        .where(PENDING.c.processed_at.is_(None))
        .distinct()
        .order_by(PENDING.c.received_at)
    )
    return list(overlay.execute(query).scalars())


def arrive(overlay: Session, now: datetime) -> bool:
    """Lets in the events that reached us by ``now``, in the order they did (new ids after
    the overlay's own, whose system events take ids too); True when one is to be matched."""
    due = PENDING.c.received_at <= now
    if overlay.execute(select(func.min(PENDING.c.received_at)).where(due)).scalar() is None:
        return False
    arriving = (
        select(*(PENDING.c[name] for name in EVENT_COLUMNS))
        .where(due)
        .order_by(PENDING.c.received_at, PENDING.c.real_id)
    )
    overlay.execute(insert(EVENTS).from_select(EVENT_COLUMNS, arriving))
    to_match = overlay.execute(
        select(func.count()).where(due, PENDING.c.processed_at.is_(None))
    ).scalar_one()
    overlay.execute(PENDING.delete().where(due))
    return bool(to_match)


def copy_past_journeys(
    real: Session, overlay: Session, scenario_id: int, contact_ids: list[int], start: datetime
) -> None:
    """The scenario's journeys that began before the window, for the re-entry rules only
    ("once": who went through it before does not enter again): on no version of the overlay
    and due never, so no step of the engine moves them."""
    past = {"scenario_id": SIMULATED_SCENARIO_ID, "version_id": 0, "wake_at": None,
            "wait_event": None, "wake_port": None}  # fmt: skip
    for batch in _batches(contact_ids):
        rows = _rows(
            real,
            select(ENROLLMENTS).where(
                ENROLLMENTS.c.scenario_id == scenario_id,
                ENROLLMENTS.c.contact_id.in_(batch),
                ENROLLMENTS.c.entered_at < start,
            ),
        )
        if rows:
            overlay.execute(insert(ENROLLMENTS), [{**row, **past} for row in rows])


def let_existing_in(overlay: Session, plan: Plan, existing: dict[int, str], at: datetime) -> None:
    """Contacts let in at the start, as an activation with its existing contacts would
    (the context it gives them: ``existing_contacts.drain``)."""
    candidates = [
        Candidate(
            SIMULATED_SCENARIO_ID, SIMULATED_VERSION_ID, node_id, contact_id, {"source": "existing"}
        )
        for contact_id, node_id in sorted(existing.items())
    ]
    enroll(overlay, candidates, {SIMULATED_VERSION_ID: plan}, at)
