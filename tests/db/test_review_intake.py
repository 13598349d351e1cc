"""Review of the event writer (DESIGN §12.5) against a busy SQLite."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, event, select, text
from sqlmodel import Session

import app.db
from app.db import create_db_engine, is_database_locked
from app.migrate import upgrade
from app.services.contacts.contacts import CONTACTS, new_contact_row
from app.services.contacts.event_groups import GroupWriter
from app.services.contacts.events import EventIn
from app.sqlite_turns import background

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def one(n: int) -> list[EventIn]:
    return [EventIn.model_validate({"name": "login", "contact": {"email": f"u{n}@g.example"}})]


async def test_a_group_that_finds_sqlite_busy_is_answered_once_not_request_by_request(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path}/busy.db"
    upgrade(url)
    monkeypatch.setattr(app.db, "SQLITE_BUSY_TIMEOUT_MS", 100)
    web = create_db_engine(url)
    waits: list[int] = []  # each statement that waited out the busy timeout
    event.listen(web, "handle_error", lambda context: waits.append(1))
    holder = background(create_db_engine(url)).connect()
    holder.execute(text("SELECT 1"))  # begins IMMEDIATE: a writer that will not let go
    writer = GroupWriter(lambda: Session(web, expire_on_commit=False))
    try:
        answers = await asyncio.gather(
            *(writer.write(one(n), NOW, batch=False) for n in range(6)), return_exceptions=True
        )
    finally:
        holder.rollback()
        holder.close()

    # Every request is told the database was busy (a 503, nothing written), after one wait
    # of the busy timeout rather than one more per request of the group.
    assert all(isinstance(a, Exception) and is_database_locked(a) for a in answers), answers
    assert len(waits) == 1
    with web.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM events")).scalar_one() == 0
    web.dispose()


async def test_a_lone_request_that_met_a_contact_created_meanwhile_is_written_again(
    committed_engine: Engine,
) -> None:
    """Another transaction gives an external id to a new contact while this request creates
    one with the same external id (under another email): the insert waits for it, then fails
    on the unique external id. A group is written again request by request; a lone request
    was answered with that error, a 500."""
    if committed_engine.dialect.name != "postgresql":
        pytest.skip("SQLite's single writer never interleaves two transactions")
    other = committed_engine.connect()
    other.begin()
    other.execute(
        CONTACTS.insert(), [new_contact_row(NOW, email="a@g.example", external_id="crm-1")]
    )
    writer = GroupWriter(lambda: Session(committed_engine, expire_on_commit=False))
    event = EventIn.model_validate(
        {"name": "login", "contact": {"email": "b@g.example", "external_id": "crm-1"}}
    )
    written = asyncio.ensure_future(writer.write([event], NOW, batch=False))
    try:
        with committed_engine.connect() as watch:  # until the insert waits for the other
            waiting = text(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE wait_event_type = 'Lock' AND datname = current_database()"
            )
            for _ in range(600):
                await asyncio.sleep(0.05)
                if watch.execute(waiting).scalar_one():
                    break
                watch.rollback()
        other.commit()
    finally:
        other.close()

    stored = await written

    assert len(stored.ids) == 1
    with committed_engine.connect() as conn:
        rows = conn.execute(
            select(CONTACTS.c.email, CONTACTS.c.external_id).order_by(CONTACTS.c.email)
        ).all()
    assert [tuple(r) for r in rows] == [("a@g.example", "crm-1"), ("b@g.example", None)]
