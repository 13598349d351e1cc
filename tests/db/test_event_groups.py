"""Group commit: requests queued together share one transaction, and stay all-or-nothing."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, event, func, select
from sqlmodel import Session

from app.models import Contact, Event
from app.services.contacts.event_groups import GroupWriter
from app.services.contacts.events import EventIn, EventsRefused, Ingested

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def events(prefix: str, n: int) -> list[EventIn]:
    return [
        EventIn.model_validate(
            {
                "id": f"{prefix}-{i}",
                "name": "page_view",
                "contact": {"email": f"{prefix}@g.example"},
            }
        )
        for i in range(n)
    ]


def test_requests_queued_together_share_one_commit_and_a_bad_one_fails_alone(
    committed_engine: Engine,
) -> None:
    writer = GroupWriter()
    commits: list[int] = []

    def count_commit(_connection: object) -> None:
        commits.append(1)

    event.listen(committed_engine, "commit", count_commit)
    bad = [EventIn.model_validate({"name": "login", "contact_id": 999_999})]
    requests = {"a": events("a", 3), "b": events("b", 2), "bad": bad, "c": events("c", 1)}
    results: dict[str, Ingested | Exception] = {}

    def submit(name: str) -> None:
        with Session(committed_engine) as session:
            try:
                results[name] = writer.submit(session, requests[name], NOW, batch=True)
            except EventsRefused as refused:
                results[name] = refused

    # Hold the write lock while the four requests queue up, as a busy writer would.
    writer._write_lock.acquire()
    threads = [threading.Thread(target=submit, args=(name,)) for name in requests]
    for thread in threads:
        thread.start()
    queued = threading.Event()
    while not queued.wait(0.005):
        if len(writer._queue) == len(requests):
            queued.set()
    writer._write_lock.release()
    for thread in threads:
        thread.join(timeout=20)
    event.remove(committed_engine, "commit", count_commit)

    assert isinstance(results["bad"], EventsRefused)
    assert results["a"].ids == ["a-0", "a-1", "a-2"]  # type: ignore[union-attr]
    assert results["b"].ids == ["b-0", "b-1"]  # type: ignore[union-attr]
    assert results["c"].ids == ["c-0"]  # type: ignore[union-attr]
    assert len(commits) == 1
    with Session(committed_engine) as session:
        assert session.execute(select(func.count()).where(Event.name == "page_view")).scalar() == 6
        assert session.execute(select(func.count()).select_from(Contact)).scalar() == 3


def test_a_lone_request_is_written_at_once(committed_engine: Engine) -> None:
    writer = GroupWriter()
    with Session(committed_engine) as session:
        stored = writer.submit(session, events("solo", 2), NOW, batch=False)

    assert stored.ids == ["solo-0", "solo-1"]
    with Session(committed_engine) as session:
        assert session.execute(select(func.count()).select_from(Event)).scalar() == 3


def test_a_lone_bad_request_gets_the_single_event_refusal(committed_engine: Engine) -> None:
    writer = GroupWriter()
    bad = [EventIn.model_validate({"name": "login", "contact_id": 424242})]

    with Session(committed_engine) as session, pytest.raises(EventsRefused) as refused:
        writer.submit(session, bad, NOW, batch=False)

    assert refused.value.detail() == {
        "message": "The event was refused; nothing was stored.",
        "errors": [{"field": "contact_id", "reason": "there is no contact with id 424242"}],
    }
