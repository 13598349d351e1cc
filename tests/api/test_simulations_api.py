"""Simulations over the API (CONTRACTS-2 §A): a request is checked, stored and handed to the
worker; a bad one is a 422 that stores nothing; the answer is read back, or cancelled."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from fastapi.testclient import TestClient
from redis import Redis
from sqlmodel import Session, func, select

from app.config import Settings
from app.models import ContactList, MessageTemplate, Simulation
from tests.api.test_scenarios_api import LOYALTY, create


@pytest.fixture
def api(client: TestClient, api_key: str) -> TestClient:
    client.headers["Authorization"] = f"Bearer {api_key}"
    return client


@pytest.fixture
def loyalty(api: TestClient, session: Session) -> dict[str, Any]:
    session.add(MessageTemplate(key="coupon-20", name="Coupon", subject="20% off"))
    session.add(ContactList(key="loyal", name="Loyal customers"))
    session.commit()
    return create(api, LOYALTY)


def _simulations(session: Session) -> int:
    return int(session.exec(select(func.count()).select_from(Simulation)).one())


def test_a_simulation_is_started_in_the_worker_and_read_back(
    api: TestClient, loyalty: dict[str, Any], session: Session, settings: Settings
) -> None:
    url = f"/api/v1/scenarios/{loyalty['id']}/simulations"
    response = api.post(url, json={"replay_days": 7, "horizon_days": 14})

    assert response.status_code == 202, response.text
    started = response.json()
    assert started == {"id": started["id"], "status": "running"}
    stored = session.get(Simulation, started["id"])
    assert stored is not None
    assert (stored.version, stored.replay_days, stored.horizon_days) == (None, 7, 14)
    assert stored.graph == LOYALTY  # the draft as it was asked about
    with Redis.from_url(settings.redis_url) as redis:  # queued for the worker, not run here
        assert redis.exists(f"arq:job:simulate:{started['id']}")

    answer = api.get(f"{url}/{started['id']}").json()
    assert answer["status"] == "running"
    assert answer["progress"] == 0
    assert answer["version"] == "draft"
    assert answer["nodes"] == {}
    assert answer["samples"] == {}
    assert answer["warnings"] == []
    assert answer["messages"] == {"email": 0, "sms": 0}


def test_the_defaults_are_thirty_days_back_and_thirty_ahead(
    api: TestClient, loyalty: dict[str, Any], session: Session
) -> None:
    response = api.post(f"/api/v1/scenarios/{loyalty['id']}/simulations", json={})

    assert response.status_code == 202, response.text
    stored = session.get(Simulation, response.json()["id"])
    assert stored is not None
    assert (stored.replay_days, stored.horizon_days, stored.include_existing) == (30, 30, False)


def test_a_published_version_can_be_simulated(
    api: TestClient, loyalty: dict[str, Any], session: Session
) -> None:
    assert api.post(f"/api/v1/scenarios/{loyalty['id']}/activate").status_code == 200

    response = api.post(f"/api/v1/scenarios/{loyalty['id']}/simulations", json={"version": 1})

    assert response.status_code == 202, response.text
    stored = session.get(Simulation, response.json()["id"])
    assert stored is not None
    assert stored.version == 1


def test_a_version_whose_list_was_deleted_since_says_why_and_nothing_is_stored(
    api: TestClient, loyalty: dict[str, Any], session: Session
) -> None:
    url = f"/api/v1/scenarios/{loyalty['id']}"
    assert api.post(f"{url}/activate").status_code == 200
    second = copy.deepcopy(LOYALTY)  # version 2 no longer adds to the list
    second["nodes"][3] = {
        **second["nodes"][3],
        "kind": "send_email",
        "config": {"message": "coupon-20"},
    }
    saved = api.put(f"{url}/graph", json={"graph": second, "revision": loyalty["revision"]})
    assert saved.status_code == 200, saved.text
    assert api.post(f"{url}/activate").json()["version"] == 2
    assert api.delete("/api/v1/lists/loyal").status_code == 204  # version 1 still names it

    response = api.post(f"{url}/simulations", json={"version": 1})

    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert detail["message"] == (
        "Version 1 cannot run as it is: 1 problem, such as a list or a message deleted since."
    )
    assert "unknown_list" in {issue["code"] for issue in detail["issues"]}
    assert _simulations(session) == 0


@pytest.mark.parametrize(
    "body",
    [
        {"replay_days": 91},
        {"replay_days": -1},
        {"replay_days": "30"},
        {"replay_days": True},
        {"horizon_days": 366},
        {"horizon_days": 1.5},
        {"version": 0},
        {"version": "latest"},
        {"version": 2},  # no such version
        {"include_existing": "yes"},
        {"speed": "fast"},
    ],
)
def test_a_bad_request_is_refused_and_nothing_is_stored(
    api: TestClient, loyalty: dict[str, Any], session: Session, body: dict[str, Any]
) -> None:
    response = api.post(f"/api/v1/scenarios/{loyalty['id']}/simulations", json=body)

    assert response.status_code == 422, response.text
    assert _simulations(session) == 0


def test_a_draft_that_cannot_run_says_why_and_nothing_is_stored(
    api: TestClient, session: Session
) -> None:
    scenario = create(api, LOYALTY)  # its message and list do not exist

    response = api.post(f"/api/v1/scenarios/{scenario['id']}/simulations", json={})

    assert response.status_code == 422
    codes = {issue["code"] for issue in response.json()["detail"]["issues"]}
    assert {"unknown_message", "unknown_list"} <= codes
    assert _simulations(session) == 0


def test_unknown_scenarios_and_simulations_are_404(
    api: TestClient, loyalty: dict[str, Any], session: Session
) -> None:
    assert api.post("/api/v1/scenarios/999999/simulations", json={}).status_code == 404
    assert _simulations(session) == 0
    url = f"/api/v1/scenarios/{loyalty['id']}/simulations"
    assert api.get(f"{url}/999999").status_code == 404
    other = create(api, copy.deepcopy(LOYALTY), name="Other")
    simulation = api.post(url, json={}).json()["id"]
    # A simulation is read through its own scenario only.
    assert api.get(f"/api/v1/scenarios/{other['id']}/simulations/{simulation}").status_code == 404
    assert api.get(f"{url}/{simulation}").status_code == 200


def test_a_running_simulation_can_be_cancelled(
    api: TestClient, loyalty: dict[str, Any], session: Session
) -> None:
    url = f"/api/v1/scenarios/{loyalty['id']}/simulations"
    simulation = api.post(url, json={}).json()["id"]

    response = api.delete(f"{url}/{simulation}")

    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert api.get(f"{url}/{simulation}").json()["status"] == "cancelled"


def test_simulations_need_an_api_key(client: TestClient, loyalty: dict[str, Any]) -> None:
    del client.headers["Authorization"]
    response = client.post(f"/api/v1/scenarios/{loyalty['id']}/simulations", json={})
    assert response.status_code == 401
