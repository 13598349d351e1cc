"""Scenarios over the API: drafts saved even when invalid, optimistic saves, activation."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.models import (
    Contact,
    ContactList,
    Enrollment,
    EnrollmentState,
    MessageTemplate,
    ScenarioVersion,
    StepLog,
)

LOYALTY: dict[str, Any] = {
    "schema": 1,
    "nodes": [
        {"id": "start", "type": "trigger", "kind": "event", "config": {"event": "purchase"}},
        {
            "id": "first",
            "type": "condition",
            "kind": "if",
            "config": {"if": {"attribute": "orders_count", "op": "eq", "value": 1}},
        },
        {"id": "promo", "type": "action", "kind": "send_email", "config": {"message": "coupon-20"}},
        {"id": "loyal", "type": "action", "kind": "add_to_list", "config": {"list": "loyal"}},
    ],
    "edges": [
        {"from": "start", "to": "first"},
        {"from": "first", "port": "yes", "to": "promo"},
        {"from": "first", "port": "no", "to": "loyal"},
    ],
    "settings": {"reentry": "once", "exit_when": None},
}


@pytest.fixture
def api(client: TestClient, api_key: str) -> TestClient:
    client.headers["Authorization"] = f"Bearer {api_key}"
    return client


@pytest.fixture
def refs(session: Session) -> None:
    """The message and the list that LOYALTY refers to."""
    session.add(MessageTemplate(key="coupon-20", name="Coupon", subject="20% off"))
    session.add(ContactList(key="loyal", name="Loyal customers"))
    session.commit()


def create(api: TestClient, graph: dict[str, Any], name: str = "Loyalty") -> dict[str, Any]:
    response = api.post("/api/v1/scenarios", json={"name": name, "graph": graph})
    assert response.status_code == 201, response.text
    return response.json()


def test_a_draft_is_saved_even_when_invalid_and_says_what_is_wrong(api: TestClient) -> None:
    scenario = create(api, LOYALTY)

    assert scenario["status"] == "draft"
    assert scenario["revision"] == 1
    assert scenario["graph"] == LOYALTY
    problems = {(i["node"], i["code"]) for i in scenario["issues"]}
    assert ("promo", "unknown_message") in problems
    assert ("loyal", "unknown_list") in problems


def test_unknown_block_kind_is_reported_on_that_block(api: TestClient) -> None:
    graph = copy.deepcopy(LOYALTY)
    graph["nodes"][2]["kind"] = "send_fax"

    issues = create(api, graph)["issues"]

    fax = [i for i in issues if i["node"] == "promo"]
    assert fax[0]["code"] == "unknown_block_kind"
    assert "promo" in fax[0]["message"]


def test_save_with_the_current_revision_bumps_it(api: TestClient, refs: None) -> None:
    scenario = create(api, LOYALTY)
    graph = copy.deepcopy(LOYALTY)
    graph["nodes"][0]["x"] = 400

    saved = api.put(
        f"/api/v1/scenarios/{scenario['id']}/graph", json={"graph": graph, "revision": 1}
    )

    assert saved.status_code == 200
    assert saved.json() == {"revision": 2, "issues": []}
    assert api.get(f"/api/v1/scenarios/{scenario['id']}").json()["graph"]["nodes"][0]["x"] == 400


def test_a_stale_save_gets_409_and_overwrites_nothing(api: TestClient) -> None:
    scenario = create(api, LOYALTY)
    url = f"/api/v1/scenarios/{scenario['id']}/graph"
    mine = copy.deepcopy(LOYALTY)
    mine["nodes"][0]["x"] = 111
    theirs = copy.deepcopy(LOYALTY)
    theirs["nodes"][0]["x"] = 222
    assert api.put(url, json={"graph": theirs, "revision": 1}).status_code == 200

    stale = api.put(url, json={"graph": mine, "revision": 1})

    assert stale.status_code == 409
    assert "changed elsewhere" in stale.json()["detail"]
    current = api.get(f"/api/v1/scenarios/{scenario['id']}").json()
    assert (current["revision"], current["graph"]["nodes"][0]["x"]) == (2, 222)


def test_activation_of_an_invalid_draft_is_refused_with_its_issues(
    api: TestClient, session: Session
) -> None:
    scenario = create(api, LOYALTY)

    response = api.post(f"/api/v1/scenarios/{scenario['id']}/activate")

    assert response.status_code == 422
    detail = response.json()["detail"]
    assert "cannot be activated yet" in detail["message"]
    assert {i["node"] for i in detail["issues"]} >= {"promo", "loyal"}
    assert session.exec(select(ScenarioVersion)).all() == []
    assert api.get(f"/api/v1/scenarios/{scenario['id']}").json()["status"] == "draft"


def test_activation_publishes_version_1_with_its_plan(
    api: TestClient, refs: None, session: Session
) -> None:
    scenario = create(api, LOYALTY)

    response = api.post(f"/api/v1/scenarios/{scenario['id']}/activate")

    assert response.json() == {"status": "active", "version": 1, "warnings": []}
    version = session.exec(select(ScenarioVersion)).one()
    assert version.graph == LOYALTY
    assert version.plan["successors"]["first"] == {"no": "loyal", "yes": "promo"}
    assert version.plan["triggers"]["events"] == {"purchase": ["start"]}


def test_pause_and_resume_keep_the_version_until_the_draft_changes(
    api: TestClient, refs: None, session: Session
) -> None:
    sid = create(api, LOYALTY)["id"]
    api.post(f"/api/v1/scenarios/{sid}/activate")

    assert api.post(f"/api/v1/scenarios/{sid}/pause").json() == {"status": "paused"}
    assert api.post(f"/api/v1/scenarios/{sid}/activate").json()["version"] == 1

    edited = copy.deepcopy(LOYALTY)
    edited["nodes"], edited["edges"] = edited["nodes"][:3], edited["edges"][:2]  # NO ends here
    api.put(f"/api/v1/scenarios/{sid}/graph", json={"graph": edited, "revision": 1})
    second = api.post(f"/api/v1/scenarios/{sid}/activate").json()

    assert second["version"] == 2
    assert [w["code"] for w in second["warnings"]] == ["port_unwired"]
    versions = session.exec(select(ScenarioVersion).order_by(ScenarioVersion.number)).all()
    assert [v.graph for v in versions] == [LOYALTY, edited]


def test_a_draft_that_never_ran_cannot_be_paused(api: TestClient) -> None:
    sid = create(api, LOYALTY)["id"]

    response = api.post(f"/api/v1/scenarios/{sid}/pause")

    assert response.status_code == 422
    assert response.json()["detail"] == "Only an active scenario can be paused."


def test_unknown_scenario_is_a_404_in_plain_words(api: TestClient) -> None:
    response = api.get("/api/v1/scenarios/999999")

    assert response.status_code == 404
    assert response.json() == {"detail": "There is no scenario 999999."}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"graph": LOYALTY}, "a scenario needs a name"),
        ({"name": "x", "graph": LOYALTY, "template": "welcome"}, "either a graph or a template"),
        ({"name": "x", "graph": "not an object"}, "valid dictionary"),
    ],
)
def test_bad_create_requests_get_422_and_create_nothing(
    api: TestClient, body: dict[str, Any], message: str
) -> None:
    response = api.post("/api/v1/scenarios", json=body)

    assert response.status_code == 422
    assert message in str(response.json()["detail"])
    assert api.get("/api/v1/scenarios").json() == []


def test_created_from_a_template_with_its_lists_and_messages(
    api: TestClient, session: Session
) -> None:
    templates = {t["key"] for t in api.get("/api/v1/scenario-templates").json()}
    assert {"welcome", "abandoned_cart", "birthday"} <= templates

    scenario = api.post("/api/v1/scenarios", json={"template": "welcome"}).json()

    assert scenario["name"] == "Welcome series"
    assert scenario["template"] == "welcome"
    assert scenario["issues"] == []
    assert scenario["installed"]["created_lists"] == ["newsletter"]
    assert sorted(scenario["installed"]["created_messages"]) == ["welcome", "welcome-coupon"]
    assert api.post(f"/api/v1/scenarios/{scenario['id']}/activate").status_code == 200


def test_a_template_keeps_the_messages_you_already_have(api: TestClient, session: Session) -> None:
    session.add(MessageTemplate(key="welcome", name="My own welcome", subject="Hi"))
    session.commit()

    scenario = api.post("/api/v1/scenarios", json={"template": "welcome"}).json()

    assert scenario["installed"]["kept_messages"] == ["welcome"]
    mine = session.exec(select(MessageTemplate).where(MessageTemplate.key == "welcome")).one()
    assert mine.name == "My own welcome"


def test_unknown_template_is_refused_with_the_choices(api: TestClient) -> None:
    response = api.post("/api/v1/scenarios", json={"template": "black_friday"})

    assert response.status_code == 422
    assert "There is no template “black_friday”" in response.json()["detail"]
    assert "welcome" in response.json()["detail"]


def test_export_then_import_gives_the_same_scenario(
    api: TestClient, refs: None, session: Session
) -> None:
    sid = create(api, LOYALTY)["id"]

    bundle = api.get(f"/api/v1/scenarios/{sid}/export").json()
    assert bundle["format"] == "parcours.scenario"
    assert [m["key"] for m in bundle["messages"]] == ["coupon-20"]
    assert [lst["key"] for lst in bundle["lists"]] == ["loyal"]

    imported = api.post("/api/v1/scenarios/import", json=bundle)

    assert imported.status_code == 201
    assert imported.json()["graph"] == LOYALTY
    assert imported.json()["installed"]["kept_lists"] == ["loyal"]
    assert imported.json()["issues"] == []


def test_import_into_an_empty_installation_creates_what_the_scenario_needs(
    api: TestClient, refs: None, session: Session
) -> None:
    bundle = api.get(f"/api/v1/scenarios/{create(api, LOYALTY)['id']}/export").json()
    bundle["messages"][0]["key"] = "coupon-30"
    bundle["graph"]["nodes"][2]["config"]["message"] = "coupon-30"

    imported = api.post("/api/v1/scenarios/import", json=bundle).json()

    assert imported["installed"]["created_messages"] == ["coupon-30"]
    assert session.exec(select(MessageTemplate).where(MessageTemplate.key == "coupon-30")).one()


def test_a_malformed_import_writes_nothing(api: TestClient, session: Session) -> None:
    bundle = {
        "format": "parcours.scenario",
        "version": 1,
        "name": "Broken",
        "graph": LOYALTY,
        "lists": [{"key": "loyal", "name": "Loyal"}],
        "messages": [{"key": "coupon-20", "channel": "pigeon", "name": "x"}],
    }

    response = api.post("/api/v1/scenarios/import", json=bundle)

    assert response.status_code == 422
    assert session.exec(select(ContactList)).all() == []
    assert api.get("/api/v1/scenarios").json() == []


def test_stats_count_each_block_from_the_step_log(
    api: TestClient, refs: None, session: Session
) -> None:
    sid = create(api, LOYALTY)["id"]
    api.post(f"/api/v1/scenarios/{sid}/activate")
    version = session.exec(select(ScenarioVersion)).one()
    outcomes = {"start": "completed", "first": "yes", "promo": "completed"}
    for i in range(3):
        contact = Contact(email=f"s{i}@example.com")
        session.add(contact)
        session.flush()
        enrollment = Enrollment(
            scenario_id=sid,
            version_id=version.id,  # type: ignore[arg-type]
            contact_id=contact.id,  # type: ignore[arg-type]
            node_id="promo",
            state=EnrollmentState.completed,
        )
        session.add(enrollment)
        session.flush()
        steps = outcomes if i < 2 else {"start": "completed", "first": "no"}
        for seq, (node, outcome) in enumerate(steps.items(), start=1):
            session.add(
                StepLog(
                    enrollment_id=enrollment.id,  # type: ignore[arg-type]
                    scenario_id=sid,
                    version_id=version.id,  # type: ignore[arg-type]
                    contact_id=contact.id,  # type: ignore[arg-type]
                    node_id=node,
                    seq=seq,
                    outcome=outcome,
                )
            )
        if i == 2:  # parked on a delay, as the engine leaves it: with its wake-up time
            enrollment.node_id, enrollment.state = "loyal", EnrollmentState.waiting
            enrollment.wake_at = datetime.now(UTC) + timedelta(days=1)
    session.commit()

    stats = api.get(f"/api/v1/scenarios/{sid}/stats").json()

    assert stats["version"] == 1
    assert stats["nodes"]["start"]["entered"] == 3
    assert (stats["nodes"]["first"]["yes"], stats["nodes"]["first"]["no"]) == (2, 1)
    assert stats["nodes"]["promo"] == {
        "entered": 2,
        "waiting": 0,
        "yes": 0,
        "no": 0,
        "completed": 2,
        "failed": 0,
        "skipped": 0,
        "deferred": 0,
    }
    assert stats["nodes"]["loyal"]["waiting"] == 1


def test_scenario_endpoints_need_an_api_key(client: TestClient) -> None:
    assert client.get("/api/v1/scenarios").status_code == 401
    assert client.post("/api/v1/scenarios", json={"name": "x"}).status_code == 401


MANUAL: dict[str, Any] = {
    "schema": 1,
    "nodes": [
        {"id": "hand", "type": "trigger", "kind": "manual", "config": {}},
        {"id": "loyal", "type": "action", "kind": "add_to_list", "config": {"list": "loyal"}},
    ],
    "edges": [{"from": "hand", "to": "loyal"}],
    "settings": {"reentry": "once"},
}


def test_contacts_added_by_hand_enter_once(api: TestClient, refs: None, session: Session) -> None:
    sid = create(api, MANUAL)["id"]
    api.post(f"/api/v1/scenarios/{sid}/activate")
    people = [Contact(email=f"m{i}@example.com") for i in range(3)]
    session.add_all(people)
    session.commit()
    ids = [p.id for p in people]

    first = api.post(f"/api/v1/scenarios/{sid}/enroll", json={"contact_ids": ids})
    again = api.post(f"/api/v1/scenarios/{sid}/enroll", json={"contact_ids": ids[:1]})

    assert first.json() == {"enrolled": 3, "refused": 0}
    assert again.json() == {"enrolled": 0, "refused": 1}
    entered = session.exec(select(Enrollment).where(Enrollment.scenario_id == sid)).all()
    assert sorted(e.contact_id for e in entered) == sorted(ids)
    assert {e.node_id for e in entered} == {"hand"}


def test_enrolling_unknown_contacts_adds_nobody(
    api: TestClient, refs: None, session: Session
) -> None:
    sid = create(api, MANUAL)["id"]
    api.post(f"/api/v1/scenarios/{sid}/activate")
    known = Contact(email="known@example.com")
    session.add(known)
    session.commit()

    response = api.post(f"/api/v1/scenarios/{sid}/enroll", json={"contact_ids": [known.id, 999999]})

    assert response.status_code == 422
    assert "999999" in response.json()["detail"]
    assert session.exec(select(Enrollment)).all() == []


def test_a_scenario_without_a_manual_entry_refuses_manual_enrollment(
    api: TestClient, refs: None, session: Session
) -> None:
    sid = create(api, LOYALTY)["id"]
    api.post(f"/api/v1/scenarios/{sid}/activate")

    response = api.post(f"/api/v1/scenarios/{sid}/enroll", json={"contact_ids": [1]})

    assert response.status_code == 409
    assert "entry point" in response.json()["detail"]


def test_who_is_at_a_block_pages_through_its_contacts(
    api: TestClient, refs: None, session: Session
) -> None:
    from tests.worker.engine_harness import Engine

    sid = create(api, LOYALTY)["id"]
    api.post(f"/api/v1/scenarios/{sid}/activate")
    engine = Engine(session)
    buyers = [engine.contact(attributes={"orders_count": 1 + i % 2}) for i in range(5)]
    for buyer in buyers:
        engine.event(buyer, "purchase")
    engine.run()
    session.commit()

    first = api.get(f"/api/v1/scenarios/{sid}/nodes/first/contacts?show=yes&limit=2").json()
    rest = api.get(
        f"/api/v1/scenarios/{sid}/nodes/first/contacts?show=yes&limit=2&after={first['next_cursor']}"
    ).json()

    yes = {b.id for b in buyers if b.attributes["orders_count"] == 1}
    assert first["total"] == len(yes) == 3
    assert {c["contact_id"] for c in first["contacts"] + rest["contacts"]} == yes
    assert {c["outcome"] for c in first["contacts"]} == {"yes"}
    assert api.get(f"/api/v1/scenarios/{sid}/nodes/nowhere/contacts").status_code == 404
    assert api.get(f"/api/v1/scenarios/{sid}/nodes/first/contacts?show=maybe").status_code == 422
