"""The "Wait for a condition" panel: the condition builder and the time limit in days or
hours; what is submitted becomes the block's settings with its summary, and what cannot be
read is said plainly and saves nothing."""

from __future__ import annotations

import json

from tests.api.test_scenario_pages import announced, apply, post_json
from tests.fixtures.web import Browser

PAID = {"attribute": "plan", "op": "eq", "value": "paid"}
KIND = "delay/wait_for_condition"


def test_the_panel_shows_the_condition_builder_and_the_time_limit(logged_in: Browser) -> None:
    config = {"if": PAID, "timeout_seconds": 14 * 86_400}
    response = post_json(
        logged_in,
        "/scenarios/blocks/panel",
        {"id": "n1", "type": "delay", "kind": "wait_for_condition", "config": config},
    )

    assert response.status_code == 200
    assert '<div class="cb" data-cb data-mode="contact" data-field="if">' in response.text
    assert 'value="paid"' in response.text  # the saved condition, drawn as a row
    assert 'name="timeout_amount" value="2"' in response.text
    assert '<option value="weeks" selected' in response.text
    assert "Wait until" in response.text
    assert "It became true" in response.text


def test_a_condition_and_a_limit_in_days_become_its_settings(logged_in: Browser) -> None:
    response = apply(
        logged_in,
        KIND,
        {"if": json.dumps(PAID), "timeout_amount": "3", "timeout_unit": "days"},
    )

    assert response.status_code == 200
    event = announced(response)
    assert event is not None
    assert event["config"] == {"if": PAID, "timeout_seconds": 259_200}
    assert event["summary"] == "Wait until plan = 'paid', at most 3 days"
    assert event["problems"] == []


def test_a_limit_in_hours_is_read_in_hours(logged_in: Browser) -> None:
    response = apply(
        logged_in, KIND, {"if": json.dumps(PAID), "timeout_amount": "6", "timeout_unit": "hours"}
    )

    event = announced(response)
    assert event is not None
    assert event["config"]["timeout_seconds"] == 21_600


def test_what_is_missing_is_said_on_its_field(logged_in: Browser) -> None:
    event = announced(apply(logged_in, KIND, {}))

    assert event is not None
    fields = {p["field"] for p in event["problems"]}
    assert {"if", "timeout_seconds"} <= fields


def test_an_unreadable_condition_or_limit_saves_nothing(logged_in: Browser) -> None:
    response = apply(logged_in, KIND, {"if": "{not json", "timeout_amount": "three"})

    assert response.status_code == 200
    assert announced(response) is None
    assert "could not be read" in response.text
