"""The scenario settings panel (re-entry and goal), through HTTP with a real session."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlmodel import Session

from app.models import ContactList
from tests.api.test_scenario_pages import new_scenario, post_json, save
from tests.fixtures.web import Browser

CONDITION = {"event": "purchase", "op": "count_gte", "value": 1, "within_days": 7}


def apply(logged_in: Browser, data: dict[str, str]):  # type: ignore[no-untyped-def]
    return logged_in.post("/scenarios/settings/apply", data, htmx=True)


def announced(response) -> dict[str, Any] | None:  # type: ignore[no-untyped-def]
    header = response.headers.get("HX-Trigger")
    if header is None:
        return None
    event: dict[str, Any] = json.loads(header)["parcours:settings"]
    return event


def test_the_editor_top_bar_opens_the_scenario_settings(
    logged_in: Browser, session: Session
) -> None:
    scenario = new_scenario(logged_in, session)

    html = logged_in.client.get(f"/scenarios/{scenario.id}").text

    assert 'data-testid="scenario-settings"' in html
    assert 'data-action="scenario-settings"' in html


def test_the_settings_panel_asks_in_plain_words_and_shows_the_saved_settings(
    logged_in: Browser,
) -> None:
    settings = {"reentry": "after_exit", "cooldown_seconds": 172_800, "exit_when": CONDITION}

    response = post_json(logged_in, "/scenarios/settings/panel", settings)

    html = response.text
    assert response.status_code == 200
    assert 'hx-post="/scenarios/settings/apply"' in html
    assert "Can a contact go through this scenario again?" in html
    assert "Only once" in html
    assert "Every time it is triggered" in html
    assert "Goal — take contacts out as soon as…" in html
    assert 'name="reentry" value="after_exit" checked' in html
    assert 'name="cooldown_amount" value="2"' in html
    assert '<option value="days" selected>days</option>' in html
    assert 'name="goal" value="condition" checked' in html
    assert 'value="purchase"' in html  # the condition's row
    assert "data-cb-row" in html


def test_an_event_goal_is_shown_as_that_event(logged_in: Browser) -> None:
    response = post_json(
        logged_in, "/scenarios/settings/panel", {"reentry": "always", "exit_when": {"event": "x"}}
    )

    assert 'name="goal" value="event" checked' in response.text
    assert 'name="goal_event" value="x"' in response.text


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (
            {"reentry": "always", "goal": "event", "goal_event": "purchase"},
            {"reentry": "always", "exit_when": {"event": "purchase"}},
        ),
        (
            {
                "reentry": "after_exit",
                "cooldown_amount": "3",
                "cooldown_unit": "hours",
                "goal": "never",
            },
            {"reentry": "after_exit", "cooldown_seconds": 10_800, "exit_when": None},
        ),
        # Only once: a pause means nothing, so none is saved.
        (
            {"reentry": "once", "cooldown_amount": "3", "cooldown_unit": "days", "goal": "never"},
            {"reentry": "once", "exit_when": None},
        ),
        (
            {"reentry": "once", "goal": "condition", "exit_when": json.dumps(CONDITION)},
            {"reentry": "once", "exit_when": CONDITION},
        ),
    ],
)
def test_a_submission_becomes_the_settings_json(
    logged_in: Browser, data: dict[str, str], expected: dict[str, Any]
) -> None:
    response = apply(logged_in, {"base": "{}", **data})

    assert response.status_code == 200
    assert announced(response) == {"base": {}, "settings": expected, "problems": []}
    assert "these settings are ready" in response.text


def test_a_goal_on_a_missing_list_is_announced_with_what_is_still_to_do(
    logged_in: Browser, session: Session
) -> None:
    session.add(ContactList(key="vip", name="VIP"))
    session.commit()
    goal = {"list": "gone", "op": "member"}

    response = apply(
        logged_in, {"reentry": "once", "goal": "condition", "exit_when": json.dumps(goal)}
    )

    event = announced(response)
    assert event is not None
    assert event["settings"]["exit_when"] == goal
    assert [p["field"] for p in event["problems"]] == ["exit_when"]
    assert "Still to do" in response.text


@pytest.mark.parametrize(
    ("data", "field", "words"),
    [
        (
            {"reentry": "always", "cooldown_amount": "-2", "cooldown_unit": "hours"},
            "cooldown_amount",
            "can&#39;t be negative",
        ),
        (
            {"reentry": "always", "cooldown_amount": "soon", "cooldown_unit": "hours"},
            "cooldown_amount",
            "type a number",
        ),
        ({"reentry": "sometimes"}, "reentry", "how often"),
        ({"reentry": "once", "goal": "event", "goal_event": " "}, "goal_event", "type the event"),
        ({"reentry": "once", "goal": "condition", "exit_when": ""}, "exit_when", "add a test"),
        (
            {
                "reentry": "once",
                "goal": "condition",
                "exit_when": json.dumps({"attribute": "orders_count", "op": "gt", "value": "many"}),
            },
            "exit_when",
            "needs a number",
        ),
    ],
)
def test_bad_settings_are_explained_and_announce_nothing(
    logged_in: Browser, data: dict[str, str], field: str, words: str
) -> None:
    response = apply(logged_in, data)

    assert response.status_code == 200
    assert announced(response) is None
    assert "Not saved" in response.text
    assert f'data-field="{field}"' in response.text
    assert words in response.text


def test_a_settings_submission_needs_the_csrf_token(logged_in: Browser) -> None:
    response = logged_in.client.post("/scenarios/settings/apply", data={"reentry": "always"})

    assert response.status_code == 403


def test_a_saved_negative_pause_is_an_issue_of_the_whole_scenario_on_its_setting(
    logged_in: Browser, session: Session
) -> None:
    scenario = new_scenario(logged_in, session)
    graph = {
        "schema": 1,
        "nodes": [],
        "edges": [],
        "settings": {"reentry": "always", "cooldown_seconds": -60},
    }

    response = save(logged_in, scenario.id or 0, graph, scenario.draft_revision)

    issues = response.json()["issues"]
    assert {
        "node": None,
        "field": "settings.cooldown_seconds",
        "severity": "error",
    }.items() <= next(i for i in issues if i["field"] == "settings.cooldown_seconds").items()
