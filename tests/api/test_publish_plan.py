"""The publish plan (CONTRACTS-2 §B): before a change goes live, what it adds, removes and
changes, where contacts are parked in every running version, and the draft's issues."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from tests.api.publish_kit import LIVE, SHORTER, Shop, node, open_shop, wait, welcome
from tests.fixtures.web import Browser


@pytest.fixture
def shop(client: TestClient, api_key: str, session: Session) -> Shop:
    return open_shop(client, api_key, session)


def test_the_plan_shows_the_change_and_the_contacts_parked_in_a_removed_block(
    shop: Shop,
) -> None:
    shop.signups(3)
    shop.draft(SHORTER)

    plan = shop.plan()

    assert (plan["from_version"], plan["to_version"]) == (1, 2)
    assert plan["added"] == ["wait1"]
    assert plan["removed"] == ["wait3"]
    assert plan["changed"] == ["start"]  # it leads somewhere else now
    assert plan["settings_changed"] is False
    assert plan["names"] == {
        "wait1": "Wait 1 day",
        "wait3": "Wait 3 days",
        "start": "When signup happens",
    }
    assert plan["holding"] == [
        {
            "node": "wait3",
            "version": 1,
            "name": "Wait 3 days",
            "waiting": 3,
            "kept": False,
            "changed": False,
            "default": "stay",
        }
    ]
    assert plan["issues"] == []


def test_a_block_the_draft_keeps_is_marked_kept_and_whether_it_changed(shop: Shop) -> None:
    shop.signups(2)
    longer = welcome(wait("wait3", 5))
    shop.draft(longer)
    (held,) = shop.plan()["holding"]
    assert (held["node"], held["kept"], held["changed"]) == ("wait3", True, True)

    other_email = welcome(wait("wait3", 3))
    other_email["nodes"][-1]["config"]["message"] = "welcome-back"
    shop.draft(other_email)
    plan = shop.plan()
    (held,) = plan["holding"]
    assert (held["node"], held["kept"], held["changed"]) == ("wait3", True, False)
    assert (plan["added"], plan["removed"], plan["changed"]) == ([], [], ["reminder"])


def test_the_plan_lists_the_contacts_of_every_running_version(shop: Shop) -> None:
    shop.signups(3)  # parked on version 1's three days
    shop.draft(SHORTER)
    assert shop.publish().json()["version"] == 2  # they stay
    shop.signups(2)  # parked on version 2's one day
    shop.draft(welcome(wait("wait1", 2)))

    plan = shop.plan()

    assert (plan["from_version"], plan["to_version"]) == (2, 3)
    assert plan["changed"] == ["wait1"]
    held = [
        (h["version"], h["node"], h["waiting"], h["kept"], h["changed"]) for h in plan["holding"]
    ]
    assert held == [(1, "wait3", 3, False, False), (2, "wait1", 2, True, True)]


def test_a_draft_like_the_live_version_is_published_as_it_with_its_contacts_listed(
    shop: Shop,
) -> None:
    shop.signups(1)
    shop.draft(SHORTER)
    shop.publish()
    shop.draft(SHORTER)

    plan = shop.plan()

    assert (plan["from_version"], plan["to_version"]) == (2, 2)
    assert (plan["added"], plan["removed"], plan["changed"]) == ([], [], [])
    assert [(h["version"], h["node"]) for h in plan["holding"]] == [(1, "wait3")]


def test_the_plan_carries_the_draft_issues_as_activation_lists_them(shop: Shop) -> None:
    unfinished = welcome(wait("wait3", 3), node("thanks", "action", "send_email"))
    shop.draft(unfinished)

    issues = shop.plan()["issues"]

    assert any(i["node"] == "thanks" and i["severity"] == "error" for i in issues)
    refused = shop.publish()
    assert refused.status_code == 422
    assert refused.json()["detail"]["issues"] == issues


def test_before_the_first_activation_every_block_is_added_and_nobody_is_inside(
    client: TestClient, api_key: str
) -> None:
    client.headers["Authorization"] = f"Bearer {api_key}"
    created = client.post("/api/v1/scenarios", json={"name": "New", "graph": LIVE}).json()

    plan = client.get(f"/api/v1/scenarios/{created['id']}/publish-plan").json()

    assert (plan["from_version"], plan["to_version"]) == (None, 1)
    assert plan["added"] == ["start", "wait3", "reminder"]
    assert plan["holding"] == []


def test_an_unknown_scenario_has_no_plan(client: TestClient, api_key: str) -> None:
    client.headers["Authorization"] = f"Bearer {api_key}"
    assert client.get("/api/v1/scenarios/999999/publish-plan").status_code == 404


def test_the_canvas_reads_the_plan_with_the_blocks_in_the_users_language(
    shop: Shop, french: Browser
) -> None:
    shop.signups(1)
    shop.draft(SHORTER)

    plan = french.client.get(f"/scenarios/{shop.scenario_id}/publish-plan").json()

    assert plan["holding"][0]["name"] == "Attendre 3 jours"
    assert plan["names"]["wait1"] == "Attendre 1 jour"
