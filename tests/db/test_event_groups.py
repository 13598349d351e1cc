"""Group commit: requests queued together share one transaction, and stay all-or-nothing."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, event, func, select
from sqlmodel import Session

from app.models import Contact, Event
from app.services.contacts.event_groups import GroupWriter
from app.services.contacts.events import EventIn, EventsRefused

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


async def test_requests_queued_together_share_one_commit_and_a_bad_one_fails_alone(
    committed_engine: Engine,
) -> None:
    writer = GroupWriter(lambda: Session(committed_engine, expire_on_commit=False))
    commits: list[int] = []

    def count_commit(_connection: object) -> None:
        commits.append(1)

    event.listen(committed_engine, "commit", count_commit)
    bad = [EventIn.model_validate({"name": "login", "contact_id": 999_999})]
    requests = {"a": events("a", 3), "b": events("b", 2), "bad": bad, "c": events("c", 1)}

    # The four are queued before the writer first runs (tasks start in the order made).
    answers = await asyncio.gather(
        *(writer.write(batch, NOW, batch=True) for batch in requests.values()),
        return_exceptions=True,
    )
    event.remove(committed_engine, "commit", count_commit)
    results = dict(zip(requests, answers, strict=True))

    assert isinstance(results["bad"], EventsRefused)
    assert results["a"].ids == ["a-0", "a-1", "a-2"]  # type: ignore[union-attr]
    assert results["b"].ids == ["b-0", "b-1"]  # type: ignore[union-attr]
    assert results["c"].ids == ["c-0"]  # type: ignore[union-attr]
    assert len(commits) == 1
    with Session(committed_engine) as session:
        assert session.execute(select(func.count()).where(Event.name == "page_view")).scalar() == 6
        assert session.execute(select(func.count()).select_from(Contact)).scalar() == 3


async def test_a_lone_request_is_written_at_once(committed_engine: Engine) -> None:
    writer = GroupWriter(lambda: Session(committed_engine, expire_on_commit=False))
    stored = await writer.write(events("solo", 2), NOW, batch=False)

    assert stored.ids == ["solo-0", "solo-1"]
    with Session(committed_engine) as session:
        assert session.execute(select(func.count()).select_from(Event)).scalar() == 3


async def test_a_lone_bad_request_gets_the_single_event_refusal(committed_engine: Engine) -> None:
    writer = GroupWriter(lambda: Session(committed_engine, expire_on_commit=False))
    bad = [EventIn.model_validate({"name": "login", "contact_id": 424242})]

    with pytest.raises(EventsRefused) as refused:
        await writer.write(bad, NOW, batch=False)

    assert refused.value.detail() == {
        "message": "The event was refused; nothing was stored.",
        "errors": [{"field": "contact_id", "reason": "there is no contact with id 424242"}],
    }


async def test_a_burst_is_written_in_groups_of_bounded_size_and_each_is_answered(
    committed_engine: Engine,
) -> None:
    writer = GroupWriter(lambda: Session(committed_engine, expire_on_commit=False))
    woken: list[int] = []

    async def wake() -> None:
        woken.append(1)

    writer.after_commit = wake
    burst = [events(f"burst{n}", 1000) for n in range(7)]  # 7,000 events: two groups at least

    answers = await asyncio.gather(*(writer.write(b, NOW, batch=True) for b in burst))
    await asyncio.sleep(0)  # the wake-up calls are not awaited by the writer

    assert [len(a.ids) for a in answers] == [1000] * 7
    assert len(woken) >= 2
    with Session(committed_engine) as session:
        stored = select(func.count()).where(Event.name == "page_view")
        assert session.execute(stored).scalar() == 7000
