"""Every state-changing request from a browser must carry the session's CSRF token."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlmodel import Session, func, select

from app.models import ApiKey, Scenario, Simulation, SimulationStatus
from tests.api.publish_kit import SHORTER, open_shop
from tests.fixtures.web import Browser


def test_form_post_with_the_token_is_accepted(logged_in: Browser, session: Session) -> None:
    response = logged_in.post("/settings/api-keys", {"name": "Shop"})

    assert response.status_code == 200
    assert session.exec(select(ApiKey)).one().name == "Shop"


def test_htmx_post_with_the_token_header_is_accepted(logged_in: Browser) -> None:
    response = logged_in.post("/settings/api-keys", {"name": "Shop"}, htmx=True)

    assert response.status_code == 200
    assert response.text.lstrip().startswith('<section class="card" id="api-keys">')


def test_post_without_token_is_refused_and_writes_nothing(
    logged_in: Browser, session: Session
) -> None:
    response = logged_in.client.post("/settings/api-keys", data={"name": "Shop"})

    assert response.status_code == 403
    assert session.exec(select(ApiKey)).all() == []


def test_post_with_another_sessions_token_is_refused(logged_in: Browser, session: Session) -> None:
    response = logged_in.client.post(
        "/settings/api-keys", data={"name": "Shop"}, headers={"X-CSRF-Token": "forged-token"}
    )

    assert response.status_code == 403
    assert session.exec(select(ApiKey)).all() == []


def test_refused_htmx_request_gets_a_short_alert_to_swap_in(logged_in: Browser) -> None:
    response = logged_in.client.post(
        "/settings/api-keys",
        data={"name": "Shop"},
        headers={"HX-Request": "true", "X-CSRF-Token": "stale"},
    )

    assert response.status_code == 403
    assert response.text.startswith('<div class="alert alert-error" role="alert">')
    assert "<html" not in response.text


def test_the_publish_history_and_simulation_posts_need_the_token_and_pages_a_login(
    client: TestClient, api_key: str, session: Session, logged_in: Browser
) -> None:
    shop = open_shop(client, api_key, session)
    shop.signups(2)
    shop.draft(SHORTER)
    base = f"/scenarios/{shop.scenario_id}"
    simulation = client.post(f"/api/v1{base}/simulations", json={}).json()["id"]
    revision = client.get(f"/api/v1{base}").json()["revision"]
    del client.headers["Authorization"]
    migration = {"migration": {"wait3": {"action": "exit"}}, "from_version": 1}

    refused = [
        client.post(f"{base}/simulate", data={"replay_days": "7", "horizon_days": "7"}),
        client.post(f"{base}/simulations/{simulation}/cancel"),
        client.post(f"{base}/versions/1/restore"),
        client.post(f"{base}/activate", json=migration, headers={"X-CSRF-Token": "forged"}),
    ]

    assert [r.status_code for r in refused] == [403] * 4
    session.expire_all()
    assert session.exec(select(func.count()).select_from(Simulation)).one() == 1
    assert session.get(Simulation, simulation).status == SimulationStatus.running  # type: ignore[union-attr]
    scenario = session.get(Scenario, shop.scenario_id)
    assert scenario is not None
    assert (scenario.draft_revision, scenario.live_version) == (revision, 1)
    assert shop.where() == [(1, "wait3", "waiting")] * 2
    client.cookies.clear()  # logged out
    for path in (
        f"{base}/versions",
        f"{base}/versions/1",
        f"{base}/publish-dialog",
        f"{base}/publish-dialog/choices?node=wait3",
        f"{base}/simulations/{simulation}",
        f"{base}/simulations/{simulation}/contacts/1",
        f"{base}/stats?version=1",
        f"{base}/live?version=1",
    ):
        response = client.get(path)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/login"), path
