"""The statistics show a conversion rate only when the scenario has a goal: without one there
is nothing to convert to, and "0 %" would read as a failure."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlmodel import Session

from app.models import User
from app.services.insights.stats import has_goal
from tests.fixtures.web import Browser
from tests.worker.engine_harness import Engine

PERIOD = "start=2026-01-01&end=2026-01-31"  # the test clock's month


def welcome(goal: dict[str, Any] | None) -> dict[str, Any]:
    return {
        "schema": 1,
        "nodes": [
            {"id": "start", "type": "trigger", "kind": "event", "config": {"event": "signed_up"}},
            {"id": "pause", "type": "delay", "kind": "wait", "config": {"seconds": 3600}},
        ],
        "edges": [{"from": "start", "to": "pause"}],
        "settings": {"reentry": "once", "exit_when": goal},
    }


@pytest.fixture
def flow(session: Session) -> Engine:
    return Engine(session)


def stats_of(browser: Browser, flow: Engine, goal: dict[str, Any] | None) -> str:
    scenario = flow.scenario(welcome(goal), name="Welcome")
    flow.event(flow.contact("new@shop.test"), "signed_up")
    flow.run()
    flow.session.commit()
    page = browser.client.get(f"/scenarios/{scenario.id}/stats?{PERIOD}")
    assert page.status_code == 200
    return page.text


def test_without_a_goal_there_is_no_conversion_rate_but_a_hint(
    logged_in: Browser, flow: Engine
) -> None:
    page = stats_of(logged_in, flow, None)
    assert 'data-testid="kpi-entries">1<' in page
    assert "kpi-conversion-rate" not in page
    assert "kpi-conversions" not in page
    assert "conversion rate" not in page.replace("no conversion rate", "")
    assert "No goal, so no conversion rate" in page


def test_with_a_goal_the_rate_is_shown(logged_in: Browser, flow: Engine) -> None:
    page = stats_of(logged_in, flow, {"event": "purchase"})
    assert 'data-testid="kpi-conversions">0<' in page
    rate = re.search(r'data-testid="kpi-conversion-rate">([^<]*)<', page)
    assert rate is not None
    assert rate.group(1).strip() == "0%"
    assert "kpi-no-goal" not in page


def test_a_french_reader_is_told_why_there_is_no_rate(
    logged_in: Browser, flow: Engine, session: Session, user: User
) -> None:
    user.language = "fr"
    session.add(user)
    session.commit()
    page = stats_of(logged_in, flow, None)
    assert "Pas d’objectif, donc pas de taux de conversion" in page
    assert "« Objectif — faire sortir les contacts dès que… »" in page
    assert "No goal" not in page


def test_what_counts_as_a_goal() -> None:
    assert has_goal({"settings": {"exit_when": {"event": "purchase"}}})
    assert has_goal({"settings": {"exit_when": {"attribute": "plan", "op": "eq", "value": "pro"}}})
    assert not has_goal({"settings": {"exit_when": None}})
    assert not has_goal({"settings": {}})
    assert not has_goal({})
    assert not has_goal(None)
