"""A scenario may send through the account's quiet hours (``settings.quiet_hours``)."""

from __future__ import annotations

from app.graph.parsing import parse_document
from tests.api.test_scenario_pages import post_json
from tests.api.test_scenario_settings_panel import announced, apply
from tests.fixtures.web import Browser


def test_the_settings_panel_asks_whether_quiet_hours_hold_the_scenario(
    logged_in: Browser,
) -> None:
    html = post_json(logged_in, "/scenarios/settings/panel", {"quiet_hours": "ignore"}).text

    assert "During quiet hours, its marketing messages…" in html
    assert "Wait until quiet hours end" in html
    assert 'name="quiet_hours" value="ignore" checked' in html


def test_choosing_to_send_anyway_is_kept_and_following_them_stays_the_default(
    logged_in: Browser,
) -> None:
    ignore = apply(logged_in, {"base": "{}", "reentry": "once", "quiet_hours": "ignore"})
    follow = apply(logged_in, {"base": "{}", "reentry": "once", "quiet_hours": "follow"})

    assert announced(ignore)["settings"] == {  # type: ignore[index]
        "reentry": "once",
        "exit_when": None,
        "quiet_hours": "ignore",
    }
    assert "quiet_hours" not in announced(follow)["settings"]  # type: ignore[index]


def test_an_unknown_quiet_hours_choice_is_an_issue_in_plain_words() -> None:
    graph = {"schema": 1, "nodes": [], "edges": [], "settings": {"quiet_hours": "sometimes"}}

    document, issues = parse_document(graph)[:2]

    assert document.settings.quiet_hours == "follow"
    assert [(i.field, i.message) for i in issues] == [
        (
            "settings.quiet_hours",
            "Scenario settings: 'quiet_hours' must be one of 'follow' or 'ignore'",
        )
    ]
