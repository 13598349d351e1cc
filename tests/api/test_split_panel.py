"""The random split's panel: its rows show the saved branches, and a submitted panel becomes
branches, with what is wrong said in plain words."""

from __future__ import annotations

import json
from typing import Any

from tests.api.test_scenario_pages import post_json
from tests.fixtures.web import Browser

AB = [{"port": "a", "label": "A", "percent": 50}, {"port": "b", "label": "Promo", "percent": 50}]


def apply(logged_in: Browser, rows: list[tuple[str, str, str]]):  # type: ignore[no-untyped-def]
    return post_rows(
        logged_in,
        {
            "branch_port": [port for port, _, _ in rows],
            "branch_label": [label for _, label, _ in rows],
            "branch_percent": [percent for _, _, percent in rows],
        },
    )


def post_rows(logged_in: Browser, rows: dict[str, list[str]]):  # type: ignore[no-untyped-def]
    return logged_in.client.post(
        "/scenarios/blocks/apply/condition/random_split",
        data={"node_id": "s1", **rows},
        headers={"X-CSRF-Token": logged_in.csrf, "HX-Request": "true"},
    )


def announced(response) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return json.loads(response.headers["HX-Trigger"])["parcours:config"]  # type: ignore[no-any-return]


def test_the_panel_shows_one_row_per_branch_and_the_total(logged_in: Browser) -> None:
    response = post_json(
        logged_in,
        "/scenarios/blocks/panel",
        {"id": "s1", "type": "condition", "kind": "random_split", "config": {"branches": AB}},
    )

    assert response.status_code == 200
    assert response.text.count('data-testid="split-row"') == 2
    assert 'name="branch_label" value="Promo"' in response.text
    assert 'data-split-branches data-max="5" data-min="2"' in response.text


def test_three_branches_are_read_in_order_with_their_summary(logged_in: Browser) -> None:
    response = apply(logged_in, [("a", "A", "40"), ("b", "B", "40 %"), ("c", "Holdout", "20")])

    assert response.status_code == 200
    event = announced(response)
    assert event["config"] == {
        "branches": [
            {"port": "a", "label": "A", "percent": 40},
            {"port": "b", "label": "B", "percent": 40},
            {"port": "c", "label": "Holdout", "percent": 20},
        ]
    }
    assert event["summary"] == "Split at random: A 40 % · B 40 % · Holdout 20 %"
    assert event["problems"] == []


def test_percentages_that_do_not_make_100_are_said_plainly(logged_in: Browser) -> None:
    event = announced(apply(logged_in, [("a", "A", "50"), ("b", "B", "40")]))

    assert event["problems"] == [
        {
            "field": "branches",
            "message": "The percentages add up to 90 %; they must make 100 %",
        }
    ]


def test_one_branch_or_six_are_refused(logged_in: Browser) -> None:
    one = announced(apply(logged_in, [("a", "A", "100")]))
    six = [(p, p.upper(), "10") for p in "abcdef"]
    many = announced(apply(logged_in, [*six[:5], ("f", "F", "50")]))

    assert one["problems"][0]["message"] == "A split has 2 to 5 branches; this one has 1"
    assert many["problems"][0]["message"] == "A split has 2 to 5 branches; this one has 6"


def test_a_percentage_that_is_not_a_whole_number_is_not_saved(logged_in: Browser) -> None:
    response = apply(logged_in, [("a", "A", "50.5"), ("b", "B", "49.5")])

    assert response.status_code == 200
    assert "HX-Trigger" not in response.headers
    assert "type a whole number" in response.text


def test_rows_that_do_not_line_up_are_a_clear_refusal(logged_in: Browser) -> None:
    response = post_rows(logged_in, {"branch_port": ["a", "b"], "branch_percent": ["50"]})

    assert response.status_code < 500
    assert "could not be read" in response.text
