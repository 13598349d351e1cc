"""The statistics page reads an A/B test: per branch who entered, who reached the goal, the
rate with its 95 % interval, and which branch wins once it is sure."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from sqlalchemy import select
from sqlmodel import Session

from app.models import StepLog
from app.services.scenarios.split_results import BranchResult, SplitResult, leads, wilson
from tests.fixtures.web import Browser
from tests.worker.engine_harness import Engine

AB_TEST: dict[str, Any] = {
    "schema": 1,
    "nodes": [
        {"id": "start", "type": "trigger", "kind": "event", "config": {"event": "signup"}},
        {
            "id": "ab",
            "type": "condition",
            "kind": "random_split",
            "config": {
                "branches": [
                    {"port": "a", "label": "A", "percent": 50},
                    {"port": "b", "label": "B", "percent": 50},
                ]
            },
        },
        {"id": "wait", "type": "delay", "kind": "wait", "config": {"seconds": 86_400}},
    ],
    "edges": [{"from": "start", "to": "ab"}, {"from": "ab", "port": "b", "to": "wait"}],
    "settings": {"reentry": "once", "exit_when": {"event": "purchase"}},
}


@pytest.fixture
def flow(session: Session) -> Engine:
    return Engine(session)


def branch_of(session: Session) -> dict[int, str]:
    rows = session.execute(
        select(StepLog.contact_id, StepLog.detail).where(StepLog.node_id == "ab")
    ).all()
    return {contact: detail["split"]["port"] for contact, detail in rows}


def verdict(page: str) -> str:
    found = re.search(r'data-testid="split-verdict">([^<]*)<', page)
    assert found, "no A/B results on the page"
    return html.unescape(found.group(1))


def test_wilson_interval_and_the_two_proportion_test() -> None:
    low, high = wilson(12, 100) or (0, 0)
    assert (round(low, 4), round(high, 4)) == (0.0700, 0.1981)
    assert wilson(0, 0) is None
    strong = BranchResult("b", "B", 50, 1000, 124)
    weak = BranchResult("a", "A", 50, 1000, 80)
    close = BranchResult("a", "A", 50, 1000, 110)
    assert leads(strong, weak)
    assert not leads(strong, close), "12.4 % vs 11 % over 1,000 each is not sure yet"
    assert SplitResult("ab", [weak, strong], has_goal=True).leader == (strong, weak)


def test_the_page_says_no_clear_winner_then_which_branch_converts_better(
    logged_in: Browser, flow: Engine
) -> None:
    scenario = flow.scenario(AB_TEST, name="Welcome A/B")
    people = [flow.contact(f"p{i}@shop.test") for i in range(400)]
    for person in people:
        flow.event(person, "signup")
    flow.run()
    flow.session.commit()
    url = f"/scenarios/{scenario.id}/stats"

    before = logged_in.client.get(url)
    assert before.status_code == 200
    assert verdict(before.text) == "No clear winner yet"

    taken = branch_of(flow.session)
    on_b = [p for p in people if taken[p.id or 0] == "b"]
    for person in on_b[: len(on_b) // 3]:  # a third of B buys; nobody on A (A ended at once)
        flow.event(person, "purchase")
    flow.run()
    flow.session.commit()

    after = logged_in.client.get(url)
    b_rate = len(on_b) // 3 / len(on_b)
    assert verdict(after.text) == (
        f"B converts better: {b_rate * 100:.1f}% vs 0%, 95 % sure".replace(".0%", "%")
    )
    assert 'data-testid="split-winner"' in after.text
    row = re.search(r'<tr data-port="b">(.*?)</tr>', after.text, re.S)
    assert row is not None
    assert f">{len(on_b)}<" in row.group(1), "entered"
    assert f">{len(on_b) // 3}<" in row.group(1), "reached the goal"


def test_a_scenario_without_a_goal_asks_for_one(logged_in: Browser, flow: Engine) -> None:
    scenario = flow.scenario({**AB_TEST, "settings": {"reentry": "once"}}, name="No goal")
    flow.event(flow.contact("one@shop.test"), "signup")
    flow.run()
    flow.session.commit()

    page = logged_in.client.get(f"/scenarios/{scenario.id}/stats")

    assert verdict(page.text) == "Set a goal in the scenario's settings to compare the branches."


def test_send_everyone_to_the_winner_changes_the_draft_for_the_publish_plan(
    logged_in: Browser, flow: Engine
) -> None:
    scenario = flow.scenario(AB_TEST, name="Welcome A/B")
    flow.session.commit()
    url = f"/scenarios/{scenario.id}/splits/ab/winner"

    chosen = logged_in.post(url, {"port": "b"})

    assert chosen.status_code == 303
    assert chosen.headers["location"] == f"/scenarios/{scenario.id}"
    flow.session.expire_all()
    draft = flow.session.get(type(scenario), scenario.id)
    assert draft is not None
    [split] = [n for n in draft.draft["nodes"] if n["id"] == "ab"]
    assert [(b["port"], b["percent"]) for b in split["config"]["branches"]] == [
        ("a", 0),
        ("b", 100),
    ]
    assert draft.live_version == 1, "nothing is published until the marketer publishes"
    assert logged_in.post(url, {"port": "z"}).status_code == 422
    gone = logged_in.post(f"/scenarios/{scenario.id}/splits/nope/winner", {"port": "b"})
    assert gone.status_code == 409
    assert "no random split" in html.unescape(gone.text)
