"""Activating with the contacts already there (CONTRACTS-2 §C): whoever matches a list, segment
or attribute trigger now enters too — all at once, or at most N each hour from a durable queue
the worker drains — under the re-entry rules; bad requests are 422 and write nothing."""

from __future__ import annotations

import copy
import html
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event
from sqlmodel import Session, func, select

from app.clock import FrozenClock
from app.config import Settings
from app.db import read_only, session_scope
from app.main import create_app
from app.models import (
    Contact,
    ContactList,
    Enrollment,
    EnrollmentState,
    EntryQueue,
    EntryRamp,
    ListMembership,
    Scenario,
    ScenarioStatus,
    ScenarioVersion,
    Segment,
)
from app.services.account.api_keys import create_api_key
from app.services.scenarios import existing_contacts
from tests.fixtures.web import Browser
from worker.engine.entry_ramps import let_in_waiting
from worker.queue import Queue


def graph(trigger: dict[str, Any], **settings: Any) -> dict[str, Any]:
    return {
        "schema": 1,
        "nodes": [
            {"id": "start", "type": "trigger", **trigger},
            {"id": "thanks", "type": "action", "kind": "add_to_list", "config": {"list": "done"}},
        ],
        "edges": [{"from": "start", "to": "thanks"}],
        "settings": {"reentry": "once", **settings},
    }


ON_NEWSLETTER = graph({"kind": "list_added", "config": {"list": "newsletter"}})
ON_PRO = graph({"kind": "segment_entered", "config": {"segment": "pro"}})
ON_PLAN_PRO = graph({"kind": "attribute_changed", "config": {"attribute": "plan", "to": "pro"}})
ON_ANY_PLAN = graph({"kind": "attribute_changed", "config": {"attribute": "plan"}})
ON_PURCHASE = graph({"kind": "event", "config": {"event": "purchase"}})


@pytest.fixture
def api(client: TestClient, api_key: str) -> TestClient:
    client.headers["Authorization"] = f"Bearer {api_key}"
    return client


def set_the_scene(session: Session, people: int = 5) -> list[int]:
    """``people`` contacts; the first three in Newsletter; from the fourth on, the pro plan
    (the Pro segment); the last has no plan at all."""
    session.add(ContactList(key="done", name="Done"))
    newsletter = ContactList(key="newsletter", name="Newsletter")
    session.add(newsletter)
    contacts = [
        Contact(
            email=f"p{i}@example.com",
            email_consent=True,
            attributes={} if i == people - 1 else {"plan": "pro" if i >= 3 else "free"},
        )
        for i in range(people)
    ]
    session.add_all(contacts)
    session.flush()
    session.add_all(
        ListMembership(list_id=newsletter.id, contact_id=c.id)  # type: ignore[arg-type]
        for c in contacts[:3]
    )
    session.add(
        Segment(
            key="pro", name="Pro plan", condition={"attribute": "plan", "op": "eq", "value": "pro"}
        )
    )
    session.commit()
    return [c.id for c in contacts]  # type: ignore[misc]


@pytest.fixture
def shop(session: Session) -> list[int]:
    return set_the_scene(session)


def create(api: TestClient, document: dict[str, Any], **settings: Any) -> int:
    document = copy.deepcopy(document)
    document["settings"].update(settings)
    created = api.post("/api/v1/scenarios", json={"name": "Existing", "graph": document})
    assert created.status_code == 201, created.text
    return int(created.json()["id"])


def journeys(session: Session, sid: int) -> list[Enrollment]:
    session.expire_all()
    query = select(Enrollment).where(Enrollment.scenario_id == sid).order_by(Enrollment.contact_id)  # type: ignore[arg-type]
    return list(session.exec(query).all())


@pytest.mark.parametrize(
    ("document", "who"),
    [
        (ON_NEWSLETTER, [0, 1, 2]),  # the list's members
        (ON_PRO, [3]),  # the segment's members as they are now (p4 has no plan)
        (ON_PLAN_PRO, [3]),  # whose attribute has the value the trigger waits for
        (ON_ANY_PLAN, [0, 1, 2, 3]),  # whose attribute is set at all
    ],
    ids=["list", "segment", "attribute-to", "attribute-any"],
)
def test_those_who_match_the_trigger_now_enter_at_once(
    api: TestClient, shop: list[int], session: Session, document: dict[str, Any], who: list[int]
) -> None:
    sid = create(api, document)

    response = api.post(f"/api/v1/scenarios/{sid}/activate", json={"include_existing": True})

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "active"
    assert body["existing"] == {"entered": len(who), "refused": 0, "waiting": 0, "per_hour": None}
    entered = journeys(session, sid)
    assert [e.contact_id for e in entered] == [shop[i] for i in who]
    assert {(e.node_id, e.state) for e in entered} == {("start", EnrollmentState.active)}
    assert all(e.context == {"source": "existing"} for e in entered)
    assert session.exec(select(func.count()).select_from(EntryQueue)).one() == 0


def test_without_include_existing_only_new_contacts_enter(
    api: TestClient, shop: list[int], session: Session
) -> None:
    sid = create(api, ON_NEWSLETTER)

    response = api.post(f"/api/v1/scenarios/{sid}/activate")

    assert response.status_code == 200
    assert "existing" not in response.json()
    assert journeys(session, sid) == []


def test_a_contact_matching_two_triggers_enters_once(
    api: TestClient, shop: list[int], session: Session
) -> None:
    both = copy.deepcopy(ON_NEWSLETTER)
    both["nodes"].append(
        {
            "id": "also",
            "type": "trigger",
            "kind": "attribute_changed",
            "config": {"attribute": "plan"},
        }
    )
    both["edges"].append({"from": "also", "to": "thanks"})
    sid = create(api, both, reentry="always")

    response = api.post(f"/api/v1/scenarios/{sid}/activate", json={"include_existing": True})

    assert response.json()["existing"]["entered"] == 4  # p0-p3: plan set; the first block by id
    by_node = {e.contact_id: e.node_id for e in journeys(session, sid)}
    assert by_node == {shop[0]: "also", shop[1]: "also", shop[2]: "also", shop[3]: "also"}


def test_the_re_entry_rules_keep_out_those_who_went_through(
    api: TestClient, shop: list[int], session: Session
) -> None:
    """Once: activated again with its contacts, nobody enters twice; after_exit: only those
    whose journey has ended enter again."""
    once = create(api, ON_NEWSLETTER)
    api.post(f"/api/v1/scenarios/{once}/activate", json={"include_existing": True})
    api.post(f"/api/v1/scenarios/{once}/pause")
    again = api.post(f"/api/v1/scenarios/{once}/activate", json={"include_existing": True})
    assert again.json()["existing"] == {"entered": 0, "refused": 3, "waiting": 0, "per_hour": None}
    assert len(journeys(session, once)) == 3

    after_exit = create(api, ON_NEWSLETTER, reentry="after_exit")
    api.post(f"/api/v1/scenarios/{after_exit}/activate", json={"include_existing": True})
    finished = journeys(session, after_exit)[0]
    finished.state = EnrollmentState.completed
    session.add(finished)
    session.commit()
    api.post(f"/api/v1/scenarios/{after_exit}/pause")
    again = api.post(f"/api/v1/scenarios/{after_exit}/activate", json={"include_existing": True})
    assert again.json()["existing"]["entered"] == 1
    assert again.json()["existing"]["refused"] == 2  # still on their way
    assert [e.contact_id for e in journeys(session, after_exit)].count(finished.contact_id) == 2


@pytest.mark.parametrize(
    "body",
    [
        {"include_existing": True, "ramp_per_hour": 0},
        {"include_existing": True, "ramp_per_hour": -5},
        {"include_existing": True, "ramp_per_hour": 100_001},
        {"include_existing": True, "ramp_per_hour": "100"},
        {"include_existing": True, "ramp_per_hour": 2.5},
        {"include_existing": True, "ramp_per_hour": True},
        {"include_existing": "yes"},
        {"ramp_per_hour": 100},  # a ramp without the existing contacts means nothing
        {"include_existing": False, "ramp_per_hour": 100},
        {"include_existing": True, "everyone": True},
    ],
)
def test_a_bad_request_is_422_and_writes_nothing(
    api: TestClient, shop: list[int], session: Session, body: dict[str, Any]
) -> None:
    sid = create(api, ON_NEWSLETTER)

    response = api.post(f"/api/v1/scenarios/{sid}/activate", json=body)

    assert response.status_code == 422, response.text
    assert_untouched(session, sid)


def test_include_existing_on_an_event_trigger_is_422_in_plain_words(
    api: TestClient, shop: list[int], session: Session
) -> None:
    sid = create(api, ON_PURCHASE)

    response = api.post(f"/api/v1/scenarios/{sid}/activate", json={"include_existing": True})

    assert response.status_code == 422
    assert "added to a list" in response.json()["detail"]
    assert_untouched(session, sid)


def test_a_segment_that_cannot_be_evaluated_is_422_and_nothing_is_activated(
    api: TestClient, shop: list[int], session: Session
) -> None:
    broken = session.exec(select(Segment).where(Segment.key == "pro")).one()
    broken.condition = {"attribute": "plan", "op": "no-such-op", "value": 1}
    session.add(broken)
    session.commit()
    sid = create(api, ON_PRO)

    response = api.post(f"/api/v1/scenarios/{sid}/activate", json={"include_existing": True})

    assert response.status_code == 422, response.text
    assert "segment" in response.json()["detail"]
    assert_untouched(session, sid)


def assert_untouched(session: Session, sid: int) -> None:
    session.expire_all()
    scenario = session.get(Scenario, sid)
    assert scenario is not None
    assert scenario.status == ScenarioStatus.draft
    versions = (
        select(func.count()).select_from(ScenarioVersion).where(ScenarioVersion.scenario_id == sid)
    )
    assert session.exec(versions).one() == 0
    assert journeys(session, sid) == []
    assert session.exec(select(func.count()).select_from(EntryQueue)).one() == 0


def test_a_ramp_queues_them_instead_and_says_how_fast(
    api: TestClient, shop: list[int], session: Session
) -> None:
    sid = create(api, ON_NEWSLETTER)

    response = api.post(
        f"/api/v1/scenarios/{sid}/activate", json={"include_existing": True, "ramp_per_hour": 2}
    )

    assert response.json()["existing"] == {"entered": 0, "refused": 0, "waiting": 3, "per_hour": 2}
    assert journeys(session, sid) == []
    queued = session.exec(select(EntryQueue).order_by(EntryQueue.id)).all()  # type: ignore[arg-type]
    assert [(q.contact_id, q.node_id) for q in queued] == [(c, "start") for c in shop[:3]]
    ramp = session.get(EntryRamp, sid)
    assert ramp is not None
    assert ramp.per_hour == 2


# --- the worker drains the ramp: real task, committed rows, a clock the test moves -----------


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
def live_api(
    settings: Settings, committed_engine: Engine, clock: FrozenClock, redis: object
) -> Iterator[TestClient]:
    with session_scope(committed_engine) as session:
        _, key = create_api_key(session, name="Ramp")
    with TestClient(create_app(settings)) as client:
        client.app.state.clock = clock  # type: ignore[attr-defined]
        client.headers["Authorization"] = f"Bearer {key}"
        yield client


@pytest.fixture
async def ctx(committed_engine: Engine, clock: FrozenClock, redis_url: str) -> Any:
    queue = await Queue.connect(redis_url)
    yield {"engine": committed_engine, "clock": clock, "redis": queue.redis}
    await queue.close()


def entered_count(engine: Engine, sid: int) -> int:
    with Session(read_only(engine)) as session:
        query = select(func.count()).select_from(Enrollment).where(Enrollment.scenario_id == sid)
        return int(session.exec(query).one())


def ramped_scenario(live_api: TestClient, engine: Engine, people: int, per_hour: int) -> int:
    with session_scope(engine) as session:
        ids = set_the_scene(session, people)
        newsletter = session.exec(select(ContactList).where(ContactList.key == "newsletter")).one()
        session.add_all(
            ListMembership(list_id=newsletter.id, contact_id=c)  # type: ignore[arg-type]
            for c in ids[3:]
        )
    sid = create(live_api, ON_NEWSLETTER)
    response = live_api.post(
        f"/api/v1/scenarios/{sid}/activate",
        json={"include_existing": True, "ramp_per_hour": per_hour},
    )
    assert response.json()["existing"]["waiting"] == people
    return sid


async def test_the_worker_lets_in_at_most_n_each_hour_until_the_queue_is_empty(
    live_api: TestClient, committed_engine: Engine, clock: FrozenClock, ctx: Any
) -> None:
    sid = ramped_scenario(live_api, committed_engine, people=5, per_hour=2)

    assert await let_in_waiting(ctx) == 2  # the first batch at once
    assert await let_in_waiting(ctx) == 0  # run again: the hour is not over
    clock.advance(minutes=59)
    assert await let_in_waiting(ctx) == 0
    clock.advance(minutes=1)
    assert await let_in_waiting(ctx) == 2
    clock.advance(hours=1)
    assert await let_in_waiting(ctx) == 1  # the last one; the ramp ends with its queue
    clock.advance(hours=1)
    assert await let_in_waiting(ctx) == 0

    assert entered_count(committed_engine, sid) == 5
    with Session(read_only(committed_engine)) as session:
        assert session.exec(select(func.count()).select_from(EntryQueue)).one() == 0
        assert session.get(EntryRamp, sid) is None


async def test_the_queue_waits_while_the_scenario_is_paused(
    live_api: TestClient, committed_engine: Engine, clock: FrozenClock, ctx: Any
) -> None:
    sid = ramped_scenario(live_api, committed_engine, people=3, per_hour=2)
    live_api.post(f"/api/v1/scenarios/{sid}/pause")

    assert await let_in_waiting(ctx) == 0

    live_api.post(f"/api/v1/scenarios/{sid}/activate")
    assert await let_in_waiting(ctx) == 2
    assert entered_count(committed_engine, sid) == 2


async def test_a_worker_killed_mid_batch_loses_nobody_and_lets_nobody_in_twice(
    live_api: TestClient, committed_engine: Engine, clock: FrozenClock, ctx: Any
) -> None:
    """The batch's enrollments are written, then the worker dies before the queue rows go:
    the transaction is lost whole; the next run lets the same contacts in, once."""
    sid = ramped_scenario(live_api, committed_engine, people=5, per_hour=3)
    killed: list[str] = []

    def die_once(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("DELETE FROM ENTRY_QUEUE") and not killed:
            killed.append(statement)
            raise SystemExit("worker killed")

    event.listen(committed_engine, "before_cursor_execute", die_once)
    try:
        with pytest.raises(SystemExit):
            await let_in_waiting(ctx)
    finally:
        event.remove(committed_engine, "before_cursor_execute", die_once)
    assert killed
    assert entered_count(committed_engine, sid) == 0  # nothing of the batch was kept

    assert await let_in_waiting(ctx) == 3
    assert await let_in_waiting(ctx) == 0  # the same run again: nobody twice
    clock.advance(hours=1)
    assert await let_in_waiting(ctx) == 2
    with Session(read_only(committed_engine)) as session:
        contacts = session.exec(
            select(Enrollment.contact_id).where(Enrollment.scenario_id == sid)
        ).all()
    assert len(contacts) == len(set(contacts)) == 5


async def test_a_contact_who_entered_meanwhile_is_not_let_in_again(
    live_api: TestClient, committed_engine: Engine, clock: FrozenClock, ctx: Any
) -> None:
    """The re-entry rules are read when each batch enters: "only once" keeps out a contact
    who came in by a new list event while waiting."""
    sid = ramped_scenario(live_api, committed_engine, people=4, per_hour=2)
    with session_scope(committed_engine) as session:
        last = session.exec(select(EntryQueue).order_by(EntryQueue.id.desc())).first()  # type: ignore[union-attr]
        assert last is not None
        version = session.exec(
            select(ScenarioVersion).where(ScenarioVersion.scenario_id == sid)
        ).one()
        session.add(
            Enrollment(
                scenario_id=sid,
                version_id=version.id,  # type: ignore[arg-type]
                contact_id=last.contact_id,
                node_id="start",
                state=EnrollmentState.completed,
            )
        )

    assert await let_in_waiting(ctx) == 2
    clock.advance(hours=1, seconds=1)
    assert await let_in_waiting(ctx) == 1  # two taken from the queue, one kept out
    assert entered_count(committed_engine, sid) == 4  # the three let in and the earlier one


# --- the canvas's calls: the count before asking, the answer, the queue on the page ----------


def test_the_canvas_count_is_what_activating_lets_in(
    logged_in: Browser, api: TestClient, shop: list[int], session: Session
) -> None:
    """The count leaves out those the re-entry rules keep out: after a first journey with
    "only once", a list member is not counted again."""
    sid = create(api, ON_NEWSLETTER)
    other = create(api, ON_PRO)

    counted = logged_in.client.get(f"/scenarios/{sid}/existing")

    assert counted.status_code == 200
    assert counted.json() == {
        "count": 3,
        "sources": [{"node": "start", "kind": "list", "name": "Newsletter"}],
    }
    assert logged_in.client.get(f"/scenarios/{other}/existing").json()["count"] == 1
    activated = logged_in.client.post(
        f"/scenarios/{sid}/activate",
        json={"include_existing": True},
        headers={"X-CSRF-Token": logged_in.csrf},
    )
    assert activated.json()["existing"]["entered"] == 3
    assert logged_in.client.get(f"/scenarios/{sid}/existing").json()["count"] == 0


def test_an_event_trigger_asks_nothing(
    logged_in: Browser, api: TestClient, shop: list[int]
) -> None:
    sid = create(api, ON_PURCHASE)

    assert logged_in.client.get(f"/scenarios/{sid}/existing").json() == {"count": 0, "sources": []}


def test_the_editor_page_carries_the_queue_of_the_trigger_block(
    logged_in: Browser, api: TestClient, shop: list[int]
) -> None:
    sid = create(api, ON_NEWSLETTER)
    answer = logged_in.client.post(
        f"/scenarios/{sid}/activate",
        json={"include_existing": True, "ramp_per_hour": 2},
        headers={"X-CSRF-Token": logged_in.csrf},
    )
    assert answer.json()["queue"] == {"start": {"waiting": 3, "perHour": 2}}

    page = logged_in.client.get(f"/scenarios/{sid}")

    found = re.search(
        r'<script type="application/json" id="canvas-data">(.*?)</script>', page.text, re.S
    )
    assert found is not None
    assert json.loads(html.unescape(found.group(1)))["queue"] == {
        "start": {"waiting": 3, "perHour": 2}
    }
    # Read again as the live counters move.
    queued = logged_in.client.get(f"/scenarios/{sid}/queue")
    assert queued.json() == {"start": {"waiting": 3, "perHour": 2}}


def test_a_french_marketer_reads_the_refusal_in_french(
    french: Browser, api: TestClient, shop: list[int], session: Session
) -> None:
    sid = create(api, ON_PURCHASE)

    refused = french.client.post(
        f"/scenarios/{sid}/activate",
        json={"include_existing": True},
        headers={"X-CSRF-Token": french.csrf},
    )

    assert refused.status_code == 422
    assert "peut faire entrer les contacts déjà présents" in refused.json()["detail"]
    assert_untouched(session, sid)


def test_a_large_list_goes_in_chunks_each_contact_once(
    api: TestClient, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(existing_contacts, "CHUNK", 5)  # 23 contacts: five chunks
    ids = set_the_scene(session, people=23)
    newsletter = session.exec(select(ContactList).where(ContactList.key == "newsletter")).one()
    session.add_all(
        ListMembership(list_id=newsletter.id, contact_id=c)  # type: ignore[arg-type]
        for c in ids[3:]
    )
    session.commit()
    sid = create(api, ON_NEWSLETTER)

    response = api.post(f"/api/v1/scenarios/{sid}/activate", json={"include_existing": True})

    assert response.json()["existing"]["entered"] == 23
    assert sorted(e.contact_id for e in journeys(session, sid)) == sorted(ids)


async def test_an_hours_batch_larger_than_a_chunk_still_stops_at_n(
    live_api: TestClient,
    committed_engine: Engine,
    clock: FrozenClock,
    ctx: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(existing_contacts, "CHUNK", 3)
    sid = ramped_scenario(live_api, committed_engine, people=12, per_hour=7)

    assert await let_in_waiting(ctx) == 7  # chunks of 3, 3 and 1
    clock.advance(hours=1)
    assert await let_in_waiting(ctx) == 5
    assert entered_count(committed_engine, sid) == 12
