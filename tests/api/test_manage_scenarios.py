"""Tidying scenarios: rename, duplicate, delete a draft that never ran, archive one that did.

An archived scenario leaves every list but keeps its history (journeys, step log, statistics),
cannot run or change again, and the engine admits nobody into it — the real worker says so.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from arq.worker import Worker
from fastapi.testclient import TestClient
from sqlalchemy import Engine, insert, update
from sqlmodel import Session, func, select

from app.clock import FrozenClock
from app.db import read_only, session_scope
from app.models import (
    Contact,
    ContactList,
    Enrollment,
    EnrollmentState,
    Event,
    ListMembership,
    Scenario,
    ScenarioVersion,
    StepLog,
)
from app.queue import Queue
from app.services.scenarios import scenarios
from tests.fixtures.web import Browser
from tests.worker.engine_harness import Engine as EngineHarness
from worker.queue import QUEUE_NAME, redis_settings
from worker.settings import WorkerSettings

# By hand, then a day's wait, then a list: a contact who entered is still travelling.
BY_HAND: dict[str, Any] = {
    "schema": 1,
    "nodes": [
        {"id": "hand", "type": "trigger", "kind": "manual", "config": {}},
        {"id": "day", "type": "delay", "kind": "wait", "config": {"seconds": 86400}},
        {"id": "loyal", "type": "action", "kind": "add_to_list", "config": {"list": "loyal"}},
    ],
    "edges": [{"from": "hand", "to": "day"}, {"from": "day", "to": "loyal"}],
    "settings": {"reentry": "once"},
}


@pytest.fixture
def api(client: TestClient, api_key: str) -> TestClient:
    client.headers["Authorization"] = f"Bearer {api_key}"
    return client


@pytest.fixture
def loyal(session: Session) -> None:
    session.add(ContactList(key="loyal", name="Loyal customers"))
    session.commit()


def create(api: TestClient, name: str = "Loyalty", graph: dict[str, Any] | None = None) -> int:
    response = api.post("/api/v1/scenarios", json={"name": name, "graph": graph or BY_HAND})
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def ran(api: TestClient, session: Session, name: str = "Loyalty") -> tuple[int, Contact]:
    """A scenario that ran: activated, one contact in it (waiting a day), then paused."""
    sid = create(api, name)
    assert api.post(f"/api/v1/scenarios/{sid}/activate").status_code == 200
    anna = Contact(email="anna@example.com", first_name="Anna")
    session.add(anna)
    session.commit()
    entered = api.post(f"/api/v1/scenarios/{sid}/enroll", json={"contact_ids": [anna.id]})
    assert entered.status_code == 200, entered.text
    # The engine's steps, in this test's transaction, at the app's time.
    EngineHarness(session, clock=FrozenClock(api.app.state.clock.now())).run()  # type: ignore[attr-defined]
    session.commit()
    assert api.post(f"/api/v1/scenarios/{sid}/pause").status_code == 200
    return sid, anna


def row(session: Session, sid: int) -> Scenario | None:
    session.expire_all()
    return session.get(Scenario, sid)


# --- rename ------------------------------------------------------------------------------------


def test_rename_changes_the_name_and_the_description(api: TestClient, session: Session) -> None:
    sid = create(api)

    response = api.patch(
        f"/api/v1/scenarios/{sid}", json={"name": "  Loyal customers ", "description": "VIP"}
    )

    assert response.status_code == 200, response.text
    assert (response.json()["name"], response.json()["description"]) == ("Loyal customers", "VIP")
    only_description = api.patch(f"/api/v1/scenarios/{sid}", json={"description": "Best"})
    assert only_description.json()["name"] == "Loyal customers"
    scenario = row(session, sid)
    assert scenario is not None
    assert (scenario.name, scenario.description) == ("Loyal customers", "Best")


def test_renaming_an_active_scenario_keeps_it_running_on_its_version(
    api: TestClient, session: Session, loyal: None
) -> None:
    sid = create(api)
    api.post(f"/api/v1/scenarios/{sid}/activate")

    response = api.patch(f"/api/v1/scenarios/{sid}", json={"name": "Renamed"})

    assert response.status_code == 200
    assert (response.json()["status"], response.json()["live_version"]) == ("active", 1)


@pytest.mark.parametrize(
    "body",
    [
        {"name": ""},
        {"name": "   "},
        {"name": "x" * 201},
        {},
        {"description": "d" * 2001},
        {"name": "Renamed", "status": "active"},  # a key it does not know: not silently dropped
        {"name": "Renamed", "graph": {"schema": 1, "nodes": [], "edges": []}},
    ],
    ids=["empty", "blank", "too-long", "nothing", "long-description", "unknown-key", "graph"],
)
def test_a_bad_rename_is_refused_and_changes_nothing(
    api: TestClient, session: Session, body: dict[str, Any]
) -> None:
    sid = create(api)

    response = api.patch(f"/api/v1/scenarios/{sid}", json=body)

    assert response.status_code == 422, response.text
    scenario = row(session, sid)
    assert scenario is not None
    assert (scenario.name, scenario.description) == ("Loyalty", "")


def test_renaming_a_scenario_that_does_not_exist_is_404(api: TestClient) -> None:
    assert api.patch("/api/v1/scenarios/999999", json={"name": "x"}).status_code == 404


# --- duplicate ---------------------------------------------------------------------------------


def test_duplicate_makes_a_new_draft_with_the_same_journey(
    api: TestClient, session: Session, loyal: None
) -> None:
    sid = create(api)
    api.patch(f"/api/v1/scenarios/{sid}", json={"description": "For our best"})
    api.post(f"/api/v1/scenarios/{sid}/activate")

    response = api.post(f"/api/v1/scenarios/{sid}/duplicate")

    assert response.status_code == 201, response.text
    copy = response.json()
    assert copy["id"] != sid
    assert (copy["name"], copy["description"]) == ("Loyalty (copy)", "For our best")
    assert (copy["status"], copy["live_version"], copy["revision"]) == ("draft", None, 1)
    assert copy["graph"] == BY_HAND
    assert session.exec(
        select(func.count()).select_from(ScenarioVersion).where(ScenarioVersion.scenario_id == copy["id"])
    ).one() == 0  # fmt: skip


def test_the_copy_of_a_long_name_still_fits(api: TestClient) -> None:
    sid = create(api, "n" * 200)

    copy = api.post(f"/api/v1/scenarios/{sid}/duplicate").json()

    assert len(copy["name"]) == 200
    assert copy["name"].endswith("… (copy)")


def test_the_copy_of_an_archived_scenario_starts_afresh(
    api: TestClient, session: Session, loyal: None
) -> None:
    sid, _anna = ran(api, session)
    assert api.delete(f"/api/v1/scenarios/{sid}").status_code == 204

    copy = api.post(f"/api/v1/scenarios/{sid}/duplicate").json()

    assert (copy["status"], copy["archived_at"]) == ("draft", None)
    assert api.post(f"/api/v1/scenarios/{copy['id']}/activate").status_code == 200


# --- delete and archive ------------------------------------------------------------------------


def test_a_draft_that_never_ran_is_deleted(api: TestClient, session: Session) -> None:
    sid = create(api)

    response = api.delete(f"/api/v1/scenarios/{sid}")

    assert response.status_code == 204
    assert response.content == b""
    assert row(session, sid) is None
    assert api.get(f"/api/v1/scenarios/{sid}").status_code == 404


def test_an_active_scenario_must_be_paused_first(
    api: TestClient, session: Session, loyal: None
) -> None:
    sid = create(api)
    api.post(f"/api/v1/scenarios/{sid}/activate")

    response = api.delete(f"/api/v1/scenarios/{sid}")

    assert response.status_code == 409
    assert "pause it first" in response.json()["detail"]
    scenario = row(session, sid)
    assert scenario is not None
    assert (scenario.status, scenario.archived_at) == ("active", None)


def test_a_scenario_that_ran_is_archived_hidden_and_keeps_its_history(
    api: TestClient, session: Session, loyal: None
) -> None:
    sid, anna = ran(api, session)
    kept = create(api, "Welcome")
    steps_before = session.exec(select(func.count()).select_from(StepLog)).one()

    response = api.delete(f"/api/v1/scenarios/{sid}")

    assert response.status_code == 204
    scenario = row(session, sid)
    assert scenario is not None
    assert scenario.archived_at is not None
    # Gone from the lists…
    assert [s["id"] for s in api.get("/api/v1/scenarios").json()] == [kept]
    # …but its history stays: the journey, the step log, the statistics, the contact's page.
    journey = session.exec(select(Enrollment).where(Enrollment.scenario_id == sid)).one()
    assert (journey.contact_id, journey.state) == (anna.id, EnrollmentState.waiting)
    assert session.exec(select(func.count()).select_from(StepLog)).one() == steps_before > 0
    assert api.get(f"/api/v1/scenarios/{sid}").json()["archived_at"] is not None
    stats = api.get(f"/api/v1/scenarios/{sid}/stats")
    assert stats.status_code == 200
    assert stats.json()["nodes"]["hand"]["completed"] == 1
    journeys = api.get(f"/api/v1/contacts/{anna.id}/journeys").json()["journeys"]
    assert [j["scenario_id"] for j in journeys] == [sid]
    # Deleting it again changes nothing.
    assert api.delete(f"/api/v1/scenarios/{sid}").status_code == 204


def test_an_archived_scenario_cannot_run_or_change_again(
    api: TestClient, session: Session, loyal: None
) -> None:
    sid, anna = ran(api, session)
    api.delete(f"/api/v1/scenarios/{sid}")
    before = row(session, sid)
    assert before is not None
    revision, archived_at = before.draft_revision, before.archived_at

    refusals = [
        api.post(f"/api/v1/scenarios/{sid}/activate"),
        api.patch(f"/api/v1/scenarios/{sid}", json={"name": "Back"}),
        api.put(f"/api/v1/scenarios/{sid}/graph", json={"graph": BY_HAND, "revision": revision}),
        api.post(f"/api/v1/scenarios/{sid}/enroll", json={"contact_ids": [anna.id]}),
    ]

    assert [r.status_code for r in refusals] == [409, 409, 409, 409]
    assert all("archived" in r.json()["detail"] for r in refusals)
    after = row(session, sid)
    assert after is not None
    assert (after.status, after.name, after.draft_revision, after.archived_at) == (
        "paused",
        "Loyalty",
        revision,
        archived_at,
    )
    assert session.exec(select(func.count()).select_from(Enrollment)).one() == 1


def test_deleting_a_scenario_that_does_not_exist_is_404(api: TestClient) -> None:
    assert api.delete("/api/v1/scenarios/999999").status_code == 404
    assert api.post("/api/v1/scenarios/999999/duplicate").status_code == 404


def test_the_home_page_no_longer_counts_an_archived_scenario(
    api: TestClient, session: Session, loyal: None, logged_in: Browser
) -> None:
    sid, _anna = ran(api, session)
    create(api, "Welcome")
    api.delete(f"/api/v1/scenarios/{sid}")

    home = logged_in.client.get("/").text

    assert "1 in all" in home


# --- the engine --------------------------------------------------------------------------------

ON_PURCHASE: dict[str, Any] = {
    "schema": 1,
    "nodes": [
        {"id": "bought", "type": "trigger", "kind": "event", "config": {"event": "purchase"}},
        {"id": "day", "type": "delay", "kind": "wait", "config": {"seconds": 86400}},
        {"id": "loyal", "type": "action", "kind": "add_to_list", "config": {"list": "loyal"}},
    ],
    "edges": [{"from": "bought", "to": "day"}, {"from": "day", "to": "loyal"}],
    "settings": {"reentry": "always"},
}


async def run_worker(redis_url: str, engine: Engine, clock: FrozenClock) -> None:
    queue = await Queue.connect(redis_url)
    await queue.kick("match_triggers")
    await queue.kick("advance")
    worker = Worker(
        functions=WorkerSettings.functions,
        redis_settings=redis_settings(redis_url),
        queue_name=QUEUE_NAME,
        burst=True,
        poll_delay=0.05,
        ctx={"engine": engine, "clock": clock, "lanes": 1, "chunk_size": 500},
        handle_signals=False,
    )
    await worker.main()
    await worker.close()
    await queue.close()


def purchase(session: Session, contact: Contact, clock: FrozenClock) -> None:
    session.execute(
        insert(Event),
        [{"uid": uuid.uuid4().hex, "contact_id": contact.id, "name": "purchase", "properties": {},
          "occurred_at": clock.now(), "received_at": clock.now()}],
    )  # fmt: skip


@pytest.mark.parametrize("racing_activation", [False, True], ids=["archived", "racing"])
async def test_the_engine_admits_nobody_into_an_archived_scenario_and_leaves_journeys_still(
    redis_url: str,
    redis,  # type: ignore[no-untyped-def]
    committed_engine: Engine,
    racing_activation: bool,
) -> None:
    """Also when an activation raced the archiving and left it "active": archived wins."""
    clock = FrozenClock()
    with session_scope(committed_engine) as session:
        session.add(ContactList(key="loyal", name="Loyal customers"))
        session.flush()
        scenario = scenarios.create_scenario(
            session, name="Loyalty", graph=ON_PURCHASE, now=clock.now()
        )
        sid = scenario.id
        assert sid is not None
        scenarios.activate(session, sid, now=clock.now())
        anna, ben = Contact(email="anna@example.com"), Contact(email="ben@example.com")
        session.add_all([anna, ben])
        session.flush()
        purchase(session, anna, clock)
    await run_worker(redis_url, committed_engine, clock)
    with session_scope(committed_engine) as session:
        scenarios.pause(session, sid, now=clock.now())
        assert scenarios.remove(session, sid, now=clock.now()) is scenarios.Removal.archived
        if racing_activation:
            session.execute(update(Scenario).where(Scenario.id == sid).values(status="active"))  # type: ignore[arg-type]
        purchase(session, ben, clock)

    clock.advance(seconds=2 * 86400)
    await run_worker(redis_url, committed_engine, clock)

    with Session(read_only(committed_engine)) as session:
        journeys = session.exec(select(Enrollment)).all()
        assert [(j.contact_id, j.node_id, j.state) for j in journeys] == [
            (anna.id, "day", EnrollmentState.waiting)
        ]
        assert session.exec(select(func.count()).select_from(ListMembership)).one() == 0
        assert session.exec(select(func.count()).select_from(StepLog)).one() == 2


# --- the screens -------------------------------------------------------------------------------


def test_the_list_offers_rename_duplicate_and_the_right_kind_of_delete(
    api: TestClient, session: Session, loyal: None, logged_in: Browser
) -> None:
    paused, _anna = ran(api, session, "Ran once")
    draft = create(api, "Never ran")
    active = create(api, "Running")
    api.post(f"/api/v1/scenarios/{active}/activate")

    page = logged_in.client.get("/scenarios").text

    for sid in (paused, draft, active):
        for hook in ("rename", "duplicate", "delete"):
            assert f'data-testid="{hook}-{sid}"' in page, (hook, sid)
    assert "Delete « Never ran »? It has never run." in page
    assert "Archive « Ran once »? Its statistics stay available." in page
    assert "Pause it first to delete it" in page
    assert f'action="/scenarios/{active}/delete"' not in page


def test_renaming_from_the_list(api: TestClient, session: Session, logged_in: Browser) -> None:
    sid = create(api)

    response = logged_in.post(
        f"/scenarios/{sid}/rename", {"name": "Loyal customers", "description": "VIP"}
    )

    assert (response.status_code, response.headers["location"]) == (303, "/scenarios")
    assert "Loyal customers" in logged_in.client.get("/scenarios").text
    refused = logged_in.post(f"/scenarios/{sid}/rename", {"name": "  "})
    assert refused.status_code == 422
    assert "Give the scenario a name." in refused.text
    scenario = row(session, sid)
    assert scenario is not None
    assert scenario.name == "Loyal customers"


def test_renaming_from_the_editor_title_answers_the_new_title(
    api: TestClient, session: Session, logged_in: Browser
) -> None:
    sid = create(api)
    editor = logged_in.client.get(f"/scenarios/{sid}").text
    assert 'data-testid="rename-title"' in editor
    assert f'hx-post="/scenarios/{sid}/rename"' in editor

    response = logged_in.post(f"/scenarios/{sid}/rename", {"name": "Welcome"}, htmx=True)

    assert response.status_code == 200
    assert response.text.lstrip().startswith('<details class="scenario-name" id="scenario-name"')
    assert '<h1 title="Welcome">Welcome</h1>' in response.text
    refused = logged_in.post(f"/scenarios/{sid}/rename", {"name": "x" * 201}, htmx=True)
    assert refused.status_code == 422
    assert 'data-testid="rename-error"' in refused.text
    assert "at most 200 characters" in refused.text
    scenario = row(session, sid)
    assert scenario is not None
    assert scenario.name == "Welcome"


def test_duplicating_and_deleting_from_the_list(
    api: TestClient, session: Session, loyal: None, logged_in: Browser
) -> None:
    sid, _anna = ran(api, session)

    copied = logged_in.post(f"/scenarios/{sid}/duplicate")
    archived = logged_in.post(f"/scenarios/{sid}/delete")

    assert (copied.status_code, copied.headers["location"]) == (303, "/scenarios")
    copy = session.exec(select(Scenario).where(Scenario.name == "Loyalty (copy)")).one()
    assert archived.status_code == 200
    assert "“Loyalty” was archived" in archived.text
    assert f'data-testid="scenario-row-{sid}"' not in archived.text
    assert f'data-testid="scenario-row-{copy.id}"' in archived.text
    deleted = logged_in.post(f"/scenarios/{copy.id}/delete")
    assert "“Loyalty (copy)” was deleted." in deleted.text
    assert row(session, copy.id) is None  # type: ignore[arg-type]


def test_deleting_an_active_scenario_from_the_list_is_refused(
    api: TestClient, session: Session, loyal: None, logged_in: Browser
) -> None:
    sid = create(api)
    api.post(f"/api/v1/scenarios/{sid}/activate")

    response = logged_in.post(f"/scenarios/{sid}/delete")

    assert response.status_code == 409
    assert "pause it first" in response.text
    scenario = row(session, sid)
    assert scenario is not None
    assert scenario.archived_at is None


def test_an_archived_scenario_is_still_reachable_from_a_contacts_journey(
    api: TestClient, session: Session, loyal: None, logged_in: Browser
) -> None:
    sid, anna = ran(api, session)
    api.delete(f"/api/v1/scenarios/{sid}")

    contact_page = logged_in.client.get(f"/contacts/{anna.id}").text
    editor = logged_in.client.get(f"/scenarios/{sid}")
    journey = logged_in.client.get(f"/scenarios/{sid}/contacts/{anna.id}")
    stats = logged_in.client.get(f"/scenarios/{sid}/stats")

    assert f'href="/scenarios/{sid}"' in contact_page
    assert editor.status_code == journey.status_code == stats.status_code == 200
    assert 'data-testid="archived"' in editor.text
    assert 'data-testid="duplicate-archived"' in editor.text
    assert 'data-testid="rename-title"' not in editor.text
    saved = logged_in.client.put(
        f"/scenarios/{sid}/draft",
        json={"graph": BY_HAND, "revision": 1},
        headers={"X-CSRF-Token": logged_in.csrf},
    )
    assert saved.status_code == 409
    assert "archived" in saved.json()["detail"]
    reopened = logged_in.post(f"/scenarios/{sid}/duplicate", {"open_copy": "1"})
    copy = session.exec(select(Scenario).where(Scenario.name == "Loyalty (copy)")).one()
    assert reopened.headers["location"] == f"/scenarios/{copy.id}"


# --- in French ---------------------------------------------------------------------------------


def test_a_french_user_tidies_scenarios_in_french(
    api: TestClient, session: Session, loyal: None, french: Browser
) -> None:
    paused, _anna = ran(api, session, "Fidèles")
    draft = create(api, "Brouillon")
    active = create(api, "En cours")
    api.post(f"/api/v1/scenarios/{active}/activate")

    page = french.client.get("/scenarios").text

    assert "Supprimer « Brouillon » ? Il n’a jamais été lancé." in page
    assert "Archiver « Fidèles » ? Ses statistiques restent disponibles." in page
    assert "Mettez-le d’abord en pause pour le supprimer" in page
    for word in ("Renommer", "Dupliquer"):
        assert word in page
    french.post(f"/scenarios/{draft}/duplicate")
    assert session.exec(select(Scenario).where(Scenario.name == "Brouillon (copie)")).one()
    archived = french.post(f"/scenarios/{paused}/delete").text
    assert "« Fidèles » a été archivé" in archived
    refused = french.post(f"/scenarios/{active}/delete")
    assert refused.status_code == 409
    assert "mettez-le d’abord en pause" in refused.text
    editor = french.client.get(f"/scenarios/{paused}").text
    assert "Archivé le" in editor
    assert "Dupliquer pour recommencer" in editor
    renamed = french.post(f"/scenarios/{draft}/rename", {"name": ""}, htmx=True)
    assert "Donnez un nom au scénario." in renamed.text
    # The API answers in English whoever asks.
    copy = api.post(f"/api/v1/scenarios/{draft}/duplicate").json()
    assert copy["name"] == "Brouillon (copy)"
