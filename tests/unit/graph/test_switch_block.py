"""The switch block: 1 to 8 cases with unique ports and a condition each, one output per case
and ``else``, a summary that lists the routes, and an explanation naming the case taken and
why every earlier one did not hold — in French too."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from app.graph import check_draft, compile_document, explain
from app.graph.evaluate import ContactFacts
from app.graph.switch_blocks import SwitchBlock, SwitchConfig, switch_detail
from app.i18n.phrases import spoken
from app.i18n.speaker import speaking

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def city(name: str) -> dict[str, Any]:
    return {"attribute": "city", "op": "eq", "value": name}


PARIS = {"port": "c1", "label": "Paris", "if": city("Paris")}
LYON = {"port": "c2", "label": "Lyon", "if": city("Lyon")}


def config(*cases: dict[str, Any]) -> SwitchConfig:
    return SwitchConfig.model_validate({"cases": list(cases)})


def messages(*cases: dict[str, Any]) -> list[str]:
    return [problem.message for problem in config(*cases).problems()]


def routed(cfg: SwitchConfig, attributes: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The switch's answer for one contact, its cases tested as the engine tests them."""
    facts = ContactFacts(attributes=attributes)
    tested = []
    for index, case in enumerate(cfg.cases):
        assert case.condition is not None
        tested.append((index, explain(case.condition, facts, NOW)))
        if tested[-1][1].result:
            break
    return switch_detail(cfg, tested)


def graph(cases: list[dict[str, Any]], edges: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "schema": 1,
        "nodes": [
            {"id": "start", "type": "trigger", "kind": "event", "config": {"event": "signup"}},
            {"id": "route", "type": "condition", "kind": "switch", "config": {"cases": cases}},
            {"id": "a", "type": "action", "kind": "add_score", "config": {"points": 1}},
            {"id": "b", "type": "action", "kind": "add_score", "config": {"points": 2}},
        ],
        "edges": [{"from": "start", "to": "route"}, *edges],
        "settings": {},
    }


# --- validation ------------------------------------------------------------------------------


def test_two_cases_each_with_a_condition_are_fine() -> None:
    assert messages(PARIS, LYON) == []


def test_no_case_or_nine_are_refused() -> None:
    nine = [{"port": f"c{n}", "if": city(str(n))} for n in range(1, 10)]

    assert messages() == ["a switch has 1 to 8 cases; this one has 0"]
    assert messages(*nine) == ["a switch has 1 to 8 cases; this one has 9"]
    assert messages(*nine[:8]) == []


def test_two_cases_with_the_same_port_are_refused() -> None:
    assert messages(PARIS, {**LYON, "port": "c1"}) == ["two cases are both called 'c1'"]


@pytest.mark.parametrize("port", ["else", "yes", "out", "C1", "1c", ""])
def test_a_port_the_canvas_cannot_name_is_refused(port: str) -> None:
    assert messages({**PARIS, "port": port}) == [f"'{port}' cannot name a case; use c1, c2…"]


def test_a_case_without_a_condition_is_asked_for_by_its_name() -> None:
    problems = config(PARIS, {"port": "c2", "label": "Lyon"}).problems()

    assert [(p.message, p.missing) for p in problems] == [
        ("set the condition of case 'Lyon'", True)
    ]


def test_a_condition_past_the_limits_of_if_is_refused_likewise() -> None:
    deep: dict[str, Any] = city("Paris")
    for _ in range(12):
        deep = {"all": [deep]}

    (message,) = messages({**PARIS, "if": deep})
    assert message.startswith("the condition of case 'Paris' cannot be used: groups are nested")


def test_a_list_a_case_tests_is_a_reference_to_check() -> None:
    cfg = config(PARIS, {"port": "c2", "if": {"list": "vip", "op": "member"}})

    assert [(r.kind, r.key) for r in cfg.references()] == [("list", "vip")]


def test_a_case_nobody_can_take_is_a_warning_that_says_why() -> None:
    always = {"port": "all", "label": "Everyone", "if": {"all": []}}
    never = {"port": "c3", "label": "Nobody", "if": {"all": [
        {"attribute": "score", "op": "gt", "value": 5},
        {"attribute": "score", "op": "lt", "value": 2},
    ]}}  # fmt: skip
    again = {"port": "c4", "label": "Paris again", "if": city("Paris")}
    problems = config(always, PARIS, never, again).problems()

    assert {p.severity for p in problems} == {"warning"}
    assert [p.message for p in problems] == [
        "case 'Everyone' is always true (its group of rules that must all hold is empty), so no"
        " contact reaches the cases after it or Else; change it, or move it last",
        "case 'Nobody' is never true ('score > 5' and 'score < 2' cannot both be true), so no"
        " contact takes it; change it so that it can be true",
        "case 'Paris again' tests the same as case 'Paris' above it, so no contact takes it",
    ]
    (last,) = config(PARIS, always).problems()
    assert last.message.endswith("so no contact takes Else")


# --- ports -----------------------------------------------------------------------------------


def test_each_case_is_an_output_then_else() -> None:
    block = SwitchBlock.model_validate(
        {"id": "s", "type": "condition", "kind": "switch", "config": {"cases": [PARIS, LYON]}}
    )

    assert block.ports() == ("c1", "c2", "else")
    assert [block.port_label(p) for p in block.ports()] == ["Paris", "Lyon", "Else"]


def test_links_from_the_cases_and_else_compile_and_an_unknown_one_is_refused() -> None:
    edges = [
        {"from": "route", "port": "c2", "to": "a"},
        {"from": "route", "port": "else", "to": "b"},
    ]
    document, issues = check_draft(graph([PARIS, LYON], edges))
    assert document is not None
    assert [i for i in issues if i.severity == "error"] == []
    plan = compile_document(document)
    assert plan.successor("route", "c2") == "a"
    assert plan.successor("route", "else") == "b"
    assert plan.successor("route", "c1") is None  # unlinked: the journey ends there

    _document, refused = check_draft(graph([PARIS], [{"from": "route", "port": "c9", "to": "a"}]))
    assert "unknown_port" in [i.code for i in refused if i.severity == "error"]


# --- words -----------------------------------------------------------------------------------


def test_the_summary_lists_the_routes_in_order_then_else() -> None:
    assert config(PARIS, LYON).summary() == "Route by: Paris · Lyon · else"
    assert config({"port": "c1", "if": city("Paris")}).summary() == "Route by: c1 · else"
    assert config().summary() == "Route by … (no cases set)"
    with speaking("fr"):
        assert config(PARIS, LYON).summary() == "Aiguiller selon : Paris · Lyon · sinon"


def test_the_first_case_that_holds_wins_and_the_later_ones_are_not_tested() -> None:
    both = {"port": "c2", "label": "Big city", "if": {"attribute": "city", "op": "in",
                                                       "value": ["Paris", "Lyon"]}}  # fmt: skip
    port, detail = routed(config(PARIS, both), {"city": "Paris"})

    assert port == "c1"
    assert detail["text"] == "city was 'Paris', needs = 'Paris' → Paris"
    assert len(detail["children"]) == 1
    assert detail["switch"] == {"port": "c1", "case": 0}


def test_the_explanation_names_the_case_taken_and_why_the_earlier_did_not_hold() -> None:
    port, detail = routed(config(PARIS, LYON), {"city": "Lyon"})

    assert port == "c2"
    assert detail["text"] == (
        "city was 'Lyon', needs = 'Lyon': not Paris (city was 'Lyon', needs = 'Paris') → Lyon"
    )
    assert [child["result"] for child in detail["children"]] == [False, True]
    assert spoken(detail) == detail["text"]  # the stored phrase reads as the English text


def test_no_case_holding_is_said_case_by_case_then_else() -> None:
    port, detail = routed(config(PARIS, LYON), {})

    assert port == "else"
    assert detail["text"] == (
        "not Paris (city was not set, needs = 'Paris'); "
        "not Lyon (city was not set, needs = 'Lyon') → else"
    )
    assert detail["switch"] == {"port": "else", "case": None}


def test_the_explanation_reads_in_french() -> None:
    _port, detail = routed(config(PARIS, LYON), {"city": "Lyon"})
    _port, nowhere = routed(config(PARIS, LYON), {})

    with speaking("fr"):
        assert spoken(detail) == (
            "city : 'Lyon' — il fallait 'Lyon' : pas Paris (city : 'Lyon' — il fallait 'Paris')"
            " → Lyon"
        )
        assert spoken(nowhere).endswith("→ sinon")
