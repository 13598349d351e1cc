"""A scenario's version history over the API (CONTRACTS-2 §B, issue 16 point 5): each version
with its date, author, what changed and who is still on it; one version read with its graph;
restoring one as the draft publishes nothing."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.services.scenarios import scenarios as scenario_service
from tests.api import version_kit as kit
from tests.api.version_kit import OCT_20, V1, V2, versions_count


@pytest.fixture
def api(client: TestClient, api_key: str) -> TestClient:
    client.headers["Authorization"] = f"Bearer {api_key}"
    return client


@pytest.fixture
def three_versions(session: Session) -> int:
    return kit.three_versions(session)


# --- the history over the API -------------------------------------------------------------


def test_the_history_lists_versions_newest_first_with_date_author_changes_and_holdings(
    api: TestClient, three_versions: int
) -> None:
    response = api.get(f"/api/v1/scenarios/{three_versions}/versions")

    assert response.status_code == 200
    v3, v2, v1 = response.json()
    assert [v3["number"], v2["number"], v1["number"]] == [3, 2, 1]
    assert v1["published_at"].startswith("2025-10-03T09:00")
    assert v1["published_by"]["name"] == "Anne"
    assert v2["published_by"] == {
        "id": v2["published_by"]["id"],
        "name": "",
        "email": "bob@shop.example",
    }
    assert v3["published_by"] is None  # published with an API key
    assert [v3["live"], v2["live"], v1["live"]] == [True, False, False]
    assert [v3["holding"], v2["holding"], v1["holding"]] == [0, 1, 3]
    assert v1["summary"] == "First version"
    assert v1["changes"] is None
    assert v2["summary"] == "2 blocks added, “Send email 'Reminder'” removed, “Wait 3 days” changed"
    assert v2["changes"]["added"] == [
        {"id": "tips", "name": "Send email 'Tips'"},
        {"id": "done", "name": "Exit the scenario"},
    ]
    assert v3["summary"] == "Scenario settings changed"  # the block moved is no change
    assert "graph" not in v3


def test_one_version_is_read_with_its_graph(api: TestClient, three_versions: int) -> None:
    response = api.get(f"/api/v1/scenarios/{three_versions}/versions/1")

    assert response.status_code == 200
    assert response.json()["graph"] == V1
    assert response.json()["holding"] == 3
    assert response.json()["summary"] == "First version"


def test_unknown_versions_and_scenarios_are_404(api: TestClient, three_versions: int) -> None:
    for method, url in [
        ("GET", f"/api/v1/scenarios/{three_versions}/versions/4"),
        ("GET", f"/api/v1/scenarios/{three_versions}/versions/0"),
        ("POST", f"/api/v1/scenarios/{three_versions}/versions/9/restore"),
        ("GET", "/api/v1/scenarios/999999/versions"),
        ("GET", "/api/v1/scenarios/999999/versions/1"),
    ]:
        response = api.request(method, url)
        assert response.status_code == 404, url
        assert "detail" in response.json()
    assert api.get(f"/api/v1/scenarios/{three_versions}/versions/99999999999").status_code == 422


def test_a_scenario_never_published_has_an_empty_history(api: TestClient) -> None:
    made = api.post("/api/v1/scenarios", json={"name": "Blank"}).json()

    assert api.get(f"/api/v1/scenarios/{made['id']}/versions").json() == []


# --- restore as draft ---------------------------------------------------------------------


def test_restoring_a_version_changes_the_draft_only(
    api: TestClient, session: Session, three_versions: int
) -> None:
    before = api.get(f"/api/v1/scenarios/{three_versions}").json()

    response = api.post(f"/api/v1/scenarios/{three_versions}/versions/1/restore")

    assert response.status_code == 200
    answer = response.json()
    assert answer["restored_from"] == 1
    assert answer["revision"] == before["revision"] + 1
    assert answer["live_version"] == 3
    after = api.get(f"/api/v1/scenarios/{three_versions}").json()
    assert after["graph"] == V1
    assert after["status"] == "active"
    assert after["live_version"] == 3  # still running version 3
    assert versions_count(session, three_versions) == 3  # nothing published
    # An editor still holding the old revision is told, and overwrites nothing.
    stale = api.put(
        f"/api/v1/scenarios/{three_versions}/graph",
        json={"graph": V2, "revision": before["revision"]},
    )
    assert stale.status_code == 409
    assert api.get(f"/api/v1/scenarios/{three_versions}").json()["graph"] == V1


def test_restoring_the_version_the_draft_already_is_bumps_nothing(
    api: TestClient, three_versions: int
) -> None:
    revision = api.get(f"/api/v1/scenarios/{three_versions}").json()["revision"]

    answer = api.post(f"/api/v1/scenarios/{three_versions}/versions/3/restore").json()

    assert answer["revision"] == revision


def test_an_archived_scenario_cannot_be_restored(
    api: TestClient, session: Session, three_versions: int
) -> None:
    scenario_service.pause(session, three_versions, now=OCT_20)
    scenario_service.remove(session, three_versions, now=OCT_20)
    session.commit()

    response = api.post(f"/api/v1/scenarios/{three_versions}/versions/1/restore")

    assert response.status_code == 409
    assert "archived" in response.json()["detail"]
