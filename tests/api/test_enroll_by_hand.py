"""Enrolling by hand over the API: a contact, a list or a segment enters a scenario's manual
entry point under its re-entry rules (CONTRACTS-2 §C); refusals say why and write nothing."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from arq.worker import Worker
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, func, select

from app.clock import SystemClock
from app.config import Settings
from app.db import read_only, session_scope
from app.main import create_app
from app.models import (
    Contact,
    ContactList,
    Enrollment,
    EnrollmentState,
    ListMembership,
    Segment,
    StepLog,
)
from app.services.account.api_keys import create_api_key
from app.services.scenarios import manual_enrollment
from app.services.scenarios import scenarios as scenario_service
from worker.queue import QUEUE_NAME, redis_settings
from worker.settings import WorkerSettings

BY_HAND: dict[str, Any] = {
    "schema": 1,
    "nodes": [
        {"id": "hand", "type": "trigger", "kind": "manual", "config": {}},
        {"id": "thanks", "type": "action", "kind": "add_to_list", "config": {"list": "enrolled"}},
    ],
    "edges": [{"from": "hand", "to": "thanks"}],
    "settings": {"reentry": "once"},
}
ON_PURCHASE: dict[str, Any] = {
    "schema": 1,
    "nodes": [
        {"id": "buy", "type": "trigger", "kind": "event", "config": {"event": "purchase"}},
        {"id": "thanks", "type": "action", "kind": "add_to_list", "config": {"list": "enrolled"}},
    ],
    "edges": [{"from": "buy", "to": "thanks"}],
    "settings": {"reentry": "once"},
}


@pytest.fixture
def api(client: TestClient, api_key: str) -> TestClient:
    client.headers["Authorization"] = f"Bearer {api_key}"
    return client


@pytest.fixture
def shop(session: Session) -> dict[str, Any]:
    """Five contacts, three of them in the Newsletter list, two on the pro plan."""
    session.add(ContactList(key="enrolled", name="Enrolled"))
    newsletter = ContactList(key="newsletter", name="Newsletter")
    session.add(newsletter)
    people = [
        Contact(email=f"p{i}@example.com", attributes={"plan": "pro" if i >= 3 else "free"})
        for i in range(5)
    ]
    session.add_all(people)
    session.flush()
    session.add_all(ListMembership(list_id=newsletter.id, contact_id=p.id) for p in people[:3])  # type: ignore[arg-type]
    session.add(
        Segment(
            key="pro", name="Pro plan", condition={"attribute": "plan", "op": "eq", "value": "pro"}
        )
    )
    session.commit()
    return {"people": people, "ids": [p.id for p in people]}


def scenario(
    api: TestClient, graph: dict[str, Any], *, active: bool = True, **settings: Any
) -> int:
    graph = copy.deepcopy(graph)
    graph["settings"].update(settings)
    created = api.post("/api/v1/scenarios", json={"name": "By hand", "graph": graph})
    assert created.status_code == 201, created.text
    sid = int(created.json()["id"])
    if active:
        assert api.post(f"/api/v1/scenarios/{sid}/activate").status_code == 200
    return sid


def enrollments(session: Session, sid: int) -> list[Enrollment]:
    session.expire_all()
    return list(session.exec(select(Enrollment).where(Enrollment.scenario_id == sid)).all())


def test_a_list_enters_once_and_a_second_time_is_refused(
    api: TestClient, shop: dict[str, Any], session: Session
) -> None:
    sid = scenario(api, BY_HAND)

    first = api.post(f"/api/v1/scenarios/{sid}/enroll", json={"list": "newsletter"})
    again = api.post(f"/api/v1/scenarios/{sid}/enroll", json={"list": "newsletter"})

    assert first.status_code == 200
    assert first.json() == {"enrolled": 3, "refused": 0}
    assert again.json() == {"enrolled": 0, "refused": 3}
    entered = enrollments(session, sid)
    assert sorted(e.contact_id for e in entered) == sorted(shop["ids"][:3])
    assert {(e.node_id, e.state) for e in entered} == {("hand", EnrollmentState.active)}


def test_a_segment_enters_its_members_as_they_are_now(
    api: TestClient, shop: dict[str, Any], session: Session
) -> None:
    sid = scenario(api, BY_HAND)
    api.post(f"/api/v1/scenarios/{sid}/enroll", json={"contact_ids": [shop["ids"][3]]})

    response = api.post(f"/api/v1/scenarios/{sid}/enroll", json={"segment": "pro"})

    assert response.json() == {"enrolled": 1, "refused": 1}  # p3 was already in
    assert sorted(e.contact_id for e in enrollments(session, sid)) == shop["ids"][3:]


def test_contact_ids_are_still_taken_and_counted_once_each(
    api: TestClient, shop: dict[str, Any], session: Session
) -> None:
    sid = scenario(api, BY_HAND)
    ids = shop["ids"]

    response = api.post(
        f"/api/v1/scenarios/{sid}/enroll", json={"contact_ids": [ids[0], ids[0], ids[1]]}
    )

    assert response.json() == {"enrolled": 2, "refused": 0}
    assert len(enrollments(session, sid)) == 2


def test_after_exit_refuses_only_those_still_on_their_way(
    api: TestClient, shop: dict[str, Any], session: Session
) -> None:
    sid = scenario(api, BY_HAND, reentry="after_exit")
    api.post(f"/api/v1/scenarios/{sid}/enroll", json={"list": "newsletter"})
    done = enrollments(session, sid)[0]
    done.state = EnrollmentState.completed
    session.add(done)
    session.commit()

    response = api.post(f"/api/v1/scenarios/{sid}/enroll", json={"list": "newsletter"})

    assert response.json() == {"enrolled": 1, "refused": 2}
    assert len(enrollments(session, sid)) == 4


def test_always_lets_everyone_in_again_except_within_the_cooldown(
    api: TestClient, shop: dict[str, Any], session: Session
) -> None:
    free = scenario(api, BY_HAND, reentry="always")
    cooled = scenario(api, BY_HAND, reentry="always", cooldown_seconds=3600)
    for sid in (free, cooled):
        api.post(f"/api/v1/scenarios/{sid}/enroll", json={"list": "newsletter"})

    assert api.post(f"/api/v1/scenarios/{free}/enroll", json={"list": "newsletter"}).json() == {
        "enrolled": 3,
        "refused": 0,
    }
    assert api.post(f"/api/v1/scenarios/{cooled}/enroll", json={"list": "newsletter"}).json() == {
        "enrolled": 0,
        "refused": 3,
    }


@pytest.mark.parametrize(
    ("rules", "reshape"),
    [
        ({"reentry": "once"}, None),
        ({"reentry": "after_exit"}, EnrollmentState.completed),
        ({"reentry": "after_exit"}, None),
        ({"reentry": "always", "cooldown_seconds": 600}, "old"),
        ({"reentry": "always"}, None),
    ],
)
def test_the_count_shown_before_confirming_is_what_enrolling_does(
    api: TestClient,
    shop: dict[str, Any],
    session: Session,
    rules: dict[str, Any],
    reshape: object,
) -> None:
    sid = scenario(api, BY_HAND, **rules)
    api.post(f"/api/v1/scenarios/{sid}/enroll", json={"contact_ids": shop["ids"][:2]})
    first = enrollments(session, sid)[0]
    if reshape == "old":
        first.entered_at -= timedelta(hours=1)
    elif reshape is not None:
        first.state = reshape  # type: ignore[assignment]
    session.add(first)
    session.commit()
    now = SystemClock().now()
    entry = manual_enrollment.manual_entry(session, sid)
    target = manual_enrollment.resolve(
        session, manual_enrollment.Target(list_key="newsletter"), now
    )

    shown = manual_enrollment.preview(session, entry, target, now)
    enrolled, refused = manual_enrollment.enroll(session, entry, target, now)

    assert shown.total == 3
    assert (shown.enrollable, shown.refused) == (enrolled, refused)


def test_a_large_list_goes_in_chunks_each_contact_once(
    api: TestClient, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    session.add(ContactList(key="enrolled", name="Enrolled"))
    big = ContactList(key="big", name="Big")
    session.add(big)
    people = [Contact(email=f"b{i}@example.com") for i in range(23)]
    session.add_all(people)
    session.flush()
    session.add_all(ListMembership(list_id=big.id, contact_id=p.id) for p in people)  # type: ignore[arg-type]
    session.commit()
    sid = scenario(api, BY_HAND)
    monkeypatch.setattr(manual_enrollment, "CHUNK", 5)

    response = api.post(f"/api/v1/scenarios/{sid}/enroll", json={"list": "big"})

    assert response.json() == {"enrolled": 23, "refused": 0}
    assert sorted(e.contact_id for e in enrollments(session, sid)) == sorted(
        p.id or 0 for p in people
    )


def nothing_written(session: Session) -> bool:
    session.expire_all()
    return session.exec(select(func.count()).select_from(Enrollment)).one() == 0


@pytest.mark.parametrize(
    ("body", "words"),
    [({"list": "nope"}, "no list with the key 'nope'"), ({"segment": "nope"}, "no segment")],
)
def test_an_unknown_list_or_segment_is_404_in_plain_words(
    api: TestClient, shop: dict[str, Any], session: Session, body: dict[str, str], words: str
) -> None:
    sid = scenario(api, BY_HAND)

    response = api.post(f"/api/v1/scenarios/{sid}/enroll", json=body)

    assert response.status_code == 404
    assert words in response.json()["detail"].lower()
    assert nothing_written(session)


def test_a_scenario_not_active_or_without_a_manual_entry_is_409(
    api: TestClient, shop: dict[str, Any], session: Session
) -> None:
    draft = scenario(api, BY_HAND, active=False)
    by_event = scenario(api, ON_PURCHASE)
    paused = scenario(api, BY_HAND)
    api.post(f"/api/v1/scenarios/{paused}/pause")

    answers = {
        sid: api.post(f"/api/v1/scenarios/{sid}/enroll", json={"list": "newsletter"})
        for sid in (draft, by_event, paused)
    }

    assert {sid: r.status_code for sid, r in answers.items()} == dict.fromkeys(answers, 409)
    assert "Activate the scenario" in answers[draft].json()["detail"]
    assert "Activate the scenario" in answers[paused].json()["detail"]
    assert "“Add contacts by hand” entry point" in answers[by_event].json()["detail"]
    assert nothing_written(session)
    assert (
        api.post("/api/v1/scenarios/999999/enroll", json={"list": "newsletter"}).status_code == 404
    )


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"list": "newsletter", "segment": "pro"},
        {"contact_ids": [], "list": "newsletter"},
        {"contact_ids": []},
        {"lists": "newsletter"},
        {"list": ""},
        {"list": ["newsletter"]},
        {"segment": 3},
        {"contact_ids": ["x"]},
    ],
)
def test_a_malformed_body_is_422_and_enrolls_nobody(
    api: TestClient, shop: dict[str, Any], session: Session, body: dict[str, Any]
) -> None:
    sid = scenario(api, BY_HAND)

    response = api.post(f"/api/v1/scenarios/{sid}/enroll", json=body)

    assert response.status_code == 422
    assert nothing_written(session)


def test_unknown_contacts_are_422_and_nobody_is_added(
    api: TestClient, shop: dict[str, Any], session: Session
) -> None:
    sid = scenario(api, BY_HAND)

    response = api.post(
        f"/api/v1/scenarios/{sid}/enroll", json={"contact_ids": [shop["ids"][0], 999999]}
    )

    assert response.status_code == 422
    assert "999999" in response.json()["detail"]
    assert nothing_written(session)


# --- the engine then runs the journeys (real app, real queue, real worker task) -----------


@pytest.fixture
def live_api(settings: Settings, committed_engine: Engine, redis: object) -> Iterator[TestClient]:
    """The app on committed rows (no test transaction), so the worker sees what it wrote."""
    with session_scope(committed_engine) as session:
        _, key = create_api_key(session, name="Shop")
    with TestClient(create_app(settings)) as client:
        client.headers["Authorization"] = f"Bearer {key}"
        yield client


async def test_the_worker_then_runs_the_journeys_of_those_enrolled(
    live_api: TestClient, committed_engine: Engine, redis_url: str
) -> None:
    with session_scope(committed_engine) as session:
        session.add(ContactList(key="enrolled", name="Enrolled"))
        newsletter = ContactList(key="newsletter", name="Newsletter")
        session.add(newsletter)
        people = [Contact(email=f"w{i}@example.com") for i in range(4)]
        session.add_all(people)
        session.flush()
        session.add_all(ListMembership(list_id=newsletter.id, contact_id=p.id) for p in people)  # type: ignore[arg-type]
        ids = sorted(p.id for p in people)  # type: ignore[type-var]
        made = scenario_service.create_scenario(
            session, name="By hand", graph=BY_HAND, now=SystemClock().now()
        )
        scenario_service.activate(session, made.id, now=SystemClock().now())  # type: ignore[arg-type]
        sid = made.id

    answer = live_api.post(f"/api/v1/scenarios/{sid}/enroll", json={"list": "newsletter"})
    assert answer.json() == {"enrolled": 4, "refused": 0}

    worker = Worker(
        functions=WorkerSettings.functions,  # type: ignore[arg-type]
        redis_settings=redis_settings(redis_url),
        queue_name=QUEUE_NAME,
        burst=True,
        poll_delay=0.05,
        ctx={"engine": committed_engine, "clock": SystemClock()},
        handle_signals=False,
    )
    await worker.main()
    await worker.close()

    with Session(read_only(committed_engine)) as session:
        done = session.exec(select(Enrollment).where(Enrollment.scenario_id == sid)).all()
        assert {e.state for e in done} == {EnrollmentState.completed}
        steps = session.exec(select(StepLog.node_id, StepLog.outcome)).all()
        assert sorted(steps) == [("hand", "completed")] * 4 + [("thanks", "completed")] * 4
        enrolled_list = session.exec(select(ContactList).where(ContactList.key == "enrolled")).one()
        members = session.exec(
            select(ListMembership.contact_id).where(ListMembership.list_id == enrolled_list.id)
        ).all()
        assert sorted(members) == ids
