"""The switch's panel: one row per case, each with its name and its own condition builder, and
a submitted panel becomes the cases in the order shown, with what is wrong said in plain
words; a contact's journey then says which case it took and why the earlier ones did not."""

from __future__ import annotations

import html
import json
import re
from typing import Any

from sqlmodel import Session

from tests.api.test_scenario_pages import post_json
from tests.fixtures.web import Browser
from tests.worker.engine_harness import Engine
from tests.worker.test_engine_journeys import graph

PARIS = {"attribute": "city", "op": "eq", "value": "Paris"}
LYON = {"attribute": "city", "op": "eq", "value": "Lyon"}


def apply(logged_in: Browser, rows: list[tuple[str, str, object]]):  # type: ignore[no-untyped-def]
    return post_rows(
        logged_in,
        {
            "case_port": [port for port, _, _ in rows],
            "case_label": [label for _, label, _ in rows],
            "case_if": ["" if c is None else json.dumps(c) for _, _, c in rows],
        },
    )


def post_rows(logged_in: Browser, rows: dict[str, list[str]]):  # type: ignore[no-untyped-def]
    return logged_in.client.post(
        "/scenarios/blocks/apply/condition/switch",
        data={"node_id": "s1", **rows},
        headers={"X-CSRF-Token": logged_in.csrf, "HX-Request": "true"},
    )


def announced(response) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return json.loads(response.headers["HX-Trigger"])["parcours:config"]  # type: ignore[no-any-return]


def test_the_panel_shows_each_case_with_its_name_and_its_condition(logged_in: Browser) -> None:
    cases = [{"port": "c1", "label": "Paris", "if": PARIS}, {"port": "c2", "if": LYON}]
    response = post_json(
        logged_in,
        "/scenarios/blocks/panel",
        {"id": "s1", "type": "condition", "kind": "switch", "config": {"cases": cases}},
    )

    assert response.status_code == 200
    # Two cases, and the template a new one is drawn from.
    assert response.text.count('data-testid="switch-case"') == 3
    assert 'name="case_label" value="Paris"' in response.text
    assert response.text.count('name="case_if"') == 3
    assert (
        "value='{&#34;attribute&#34;: &#34;city&#34;, &#34;op&#34;: &#34;eq&#34;" in response.text
    )
    assert 'data-switch-cases data-max="8" data-min="1"' in response.text


def test_the_cases_are_read_in_the_order_shown_with_their_summary(logged_in: Browser) -> None:
    response = apply(logged_in, [("c2", "Lyon", LYON), ("c1", "Paris", PARIS)])

    assert response.status_code == 200
    event = announced(response)
    assert event["config"] == {
        "cases": [
            {"port": "c2", "label": "Lyon", "if": LYON},
            {"port": "c1", "label": "Paris", "if": PARIS},
        ]
    }
    assert event["summary"] == "Route by: Lyon · Paris · else"
    assert event["problems"] == []


def test_a_case_without_a_condition_is_said_plainly(logged_in: Browser) -> None:
    event = announced(apply(logged_in, [("c1", "Paris", PARIS), ("c2", "Lyon", None)]))

    assert event["problems"] == [{"field": "cases", "message": "Set the condition of case 'Lyon'"}]


def test_a_condition_that_cannot_be_read_is_a_clear_refusal(logged_in: Browser) -> None:
    response = post_rows(
        logged_in, {"case_port": ["c1"], "case_label": ["Paris"], "case_if": ["{not json"]}
    )

    assert response.status_code < 500
    assert "HX-Trigger" not in response.headers
    assert "could not be read" in response.text


def test_rows_that_do_not_line_up_are_a_clear_refusal(logged_in: Browser) -> None:
    response = post_rows(logged_in, {"case_port": ["c1", "c2"], "case_label": ["Paris"]})

    assert response.status_code < 500
    assert "could not be read" in response.text


# --- on the journey page ---------------------------------------------------------------------

ROUTE = graph(
    [
        {"id": "signup", "type": "trigger", "kind": "event", "config": {"event": "signup"}},
        {"id": "route", "type": "condition", "kind": "switch", "config": {"cases": [
            {"port": "c1", "label": "Paris", "if": PARIS},
            {"port": "c2", "label": "Lyon", "if": LYON},
        ]}},
        {"id": "lyon", "type": "action", "kind": "add_score", "config": {"points": 1}},
    ],
    [("signup", "route"), ("route", "c2", "lyon")],
)  # fmt: skip


def routed_to_lyon(session: Session) -> tuple[int, int]:
    flow = Engine(session)
    scenario = flow.scenario(ROUTE, name="Route by city")
    lea = flow.contact("lea@example.com", attributes={"city": "Lyon"})
    flow.event(lea, "signup")
    flow.run()
    session.commit()
    assert scenario.id is not None
    assert lea.id is not None
    return scenario.id, lea.id


def test_the_journey_says_which_case_matched_and_why_paris_did_not(
    logged_in: Browser, session: Session
) -> None:
    scenario, lea = routed_to_lyon(session)

    page = logged_in.client.get(f"/scenarios/{scenario}/contacts/{lea}")

    text = re.sub(r"\s+", " ", html.unescape(page.text))
    assert page.status_code == 200
    assert "Route by: Paris · Lyon · else" in text
    assert "not Paris (city was 'Lyon', needs = 'Paris') → Lyon" in text


def test_the_journey_reads_in_french(french: Browser, session: Session) -> None:
    scenario, lea = routed_to_lyon(session)

    page = french.client.get(f"/scenarios/{scenario}/contacts/{lea}")

    text = re.sub(r"\s+", " ", html.unescape(page.text))
    assert "Aiguiller selon : Paris · Lyon · sinon" in text
    assert "pas Paris (city : 'Lyon' — il fallait 'Paris') → Lyon" in text


def test_a_condition_that_is_not_one_is_refused_in_words(logged_in: Browser) -> None:
    for odd in ("5", "[1, 2]", '{"attribute": "city"}', '"Paris"'):
        response = post_rows(
            logged_in, {"case_port": ["c1"], "case_label": ["Paris"], "case_if": [odd]}
        )

        assert response.status_code < 500, odd
        assert "HX-Trigger" not in response.headers or announced(response)["problems"], odd
