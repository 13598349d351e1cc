"""Condition limits: what is too large or too odd to evaluate is refused at save, in plain words,
wherever a condition is written (segments, condition blocks, trigger filters, goals)."""

from __future__ import annotations

from typing import Any

import pytest

from app.graph import IssueCode, check_draft, has_errors, parse_condition
from app.graph.condition_limits import (
    MAX_COUNT,
    MAX_DEPTH,
    MAX_IN_VALUES,
    MAX_NAME,
    MAX_RULES,
    MAX_TEXT,
    MAX_VALUES,
    condition_limit_problems,
)
from app.scenario_templates import scenario_templates
from tests.unit.graph.builders import after_trigger, node

JsonDict = dict[str, Any]
CITY = {"attribute": "city", "op": "eq", "value": "Lyon"}


def problems(raw: JsonDict, *, properties: bool = False) -> list[str]:
    return [str(p) for p in condition_limit_problems(parse_condition(raw), properties=properties)]


def nested_not(depth: int) -> JsonDict:
    """``depth`` levels in all: depth - 1 ``not`` around one test."""
    condition: JsonDict = CITY
    for _ in range(depth - 1):
        condition = {"not": condition}
    return condition


def test_conditions_as_marketers_write_them_are_within_the_limits() -> None:
    everyday = {
        "all": [
            CITY,
            {"any": [{"list": "vip", "op": "member"}, {"attribute": "score", "op": "gte", "value": 50}]},
            {"not": {"consent": "email", "op": "not_granted"}},
            {"event": "purchase", "op": "count_gte", "value": 2, "within_days": 90,
             "where": {"attribute": "total amount", "op": "gt", "value": 20.5}},
            {"attribute": "country", "op": "in", "value": ["FR", "BE", "CH"]},
            {"attribute": "birthday", "op": "exists"},
        ]
    }  # fmt: skip

    assert problems(everyday) == []


def test_every_starter_scenario_stays_valid() -> None:
    for key, bundle in scenario_templates().items():
        _, issues = check_draft(bundle.graph)
        assert not has_errors(issues), (key, issues)


def test_groups_may_nest_ten_levels_deep_and_no_deeper() -> None:
    assert problems(nested_not(MAX_DEPTH)) == []
    assert problems(nested_not(MAX_DEPTH + 1)) == [
        "groups are nested more than 10 levels deep; move some rules up a level"
    ]
    # Sixty deep is refused with one problem, not one per level.
    assert len(problems(nested_not(60))) == 1


def test_an_event_filter_counts_as_a_level() -> None:
    event = {"event": "purchase", "op": "count_gte", "value": 1, "where": CITY}
    condition: JsonDict = event
    for _ in range(MAX_DEPTH - 2):
        condition = {"all": [condition]}
    assert problems(condition) == []
    assert problems({"all": [condition]}) != []


def test_a_condition_holds_at_most_two_hundred_rules() -> None:
    assert problems({"any": [CITY] * (MAX_RULES - 1)}) == []  # the group itself is a rule
    assert problems({"any": [CITY] * MAX_RULES}) == [
        "the condition has more than 200 rules; split it into simpler ones"
    ]


def test_is_one_of_takes_at_most_five_hundred_values() -> None:
    values = [f"v{i}" for i in range(MAX_IN_VALUES)]
    assert problems({"attribute": "sku", "op": "in", "value": values}) == []
    assert problems({"attribute": "sku", "op": "in", "value": [*values, "one more"]}) == [
        "value: 'is one of' takes at most 500 values"
    ]


def test_all_the_listed_values_together_are_limited_too() -> None:
    per_rule = [f"v{i}" for i in range(MAX_IN_VALUES)]
    rules = [{"attribute": "sku", "op": "in", "value": per_rule}] * (MAX_VALUES // MAX_IN_VALUES)
    assert problems({"any": rules}) == []
    assert problems({"any": [*rules, CITY]}) == [
        "the condition lists more than 2,000 values in all"
    ]


def test_text_values_are_limited_in_length_and_cannot_hold_nul() -> None:
    assert problems({"attribute": "note", "op": "contains", "value": "x" * MAX_TEXT}) == []
    assert problems({"attribute": "note", "op": "contains", "value": "x" * (MAX_TEXT + 1)}) == [
        "value: the text is longer than 2,000 characters"
    ]
    assert problems(
        {"all": [{"attribute": "city", "op": "in", "value": ["Lyon", "Ly\x00on"]}]}
    ) == ["rule 1, value: the text contains an invisible NUL character; remove it"]


@pytest.mark.parametrize("number", [2**63, -(2**63) - 1, 10**30])
def test_whole_numbers_must_fit_in_64_bits(number: int) -> None:
    assert problems({"attribute": "orders", "op": "eq", "value": number}) == [
        "value: the number is too large; whole numbers go up to 9,223,372,036,854,775,807"
    ]
    assert problems({"attribute": "orders", "op": "in", "value": [1, number]}) != []


def test_the_largest_64_bit_numbers_and_finite_floats_are_accepted() -> None:
    assert problems({"attribute": "orders", "op": "gte", "value": 2**63 - 1}) == []
    assert problems({"attribute": "orders", "op": "lte", "value": -(2**63)}) == []
    assert problems({"attribute": "ratio", "op": "lt", "value": 1.5e300}) == []


def test_event_counts_go_up_to_a_million() -> None:
    at_most = {"event": "purchase", "op": "count_gte", "value": MAX_COUNT}
    assert problems(at_most) == []
    assert problems({**at_most, "value": 2**31}) == [
        "value: the number of times can be at most 1,000,000"
    ]
    assert problems({**at_most, "op": "count_lt", "value": MAX_COUNT + 1}) != []


@pytest.mark.parametrize(
    "attribute",
    ["ci\x00ty", "city\n", "city name", "prénom", "a" * 65, 'say"hi'],
)
def test_attribute_names_follow_the_contact_attribute_rule(attribute: str) -> None:
    assert problems({"attribute": attribute, "op": "exists"}) == [
        "attribute: attribute names may only use letters, digits, '_', '-' and '.'"
        " (up to 64 characters)"
    ]


def test_built_in_and_custom_attribute_names_are_accepted() -> None:
    for name in ("email", "created_at", "orders_count", "plan.tier", "utm-source", "a" * 64):
        assert problems({"attribute": name, "op": "exists"}) == [], name


def test_event_names_cannot_hold_control_characters_or_run_past_a_hundred_characters() -> None:
    assert problems({"event": "pur\x00chase", "op": "none"}) == [
        "event: the event name contains invisible control characters; remove them"
    ]
    assert problems({"event": "e" * (MAX_NAME + 1), "op": "none"}) == [
        "event: the event name is longer than 100 characters"
    ]
    assert problems({"event": "Commande validée", "op": "none"}) == []


def test_list_keys_cannot_hold_control_characters() -> None:
    assert problems({"not": {"list": "vip\x1b", "op": "member"}}) == [
        "list: the list name contains invisible control characters; remove them"
    ]


def test_property_names_are_free_but_cannot_hold_what_the_database_cannot_find() -> None:
    free = {"attribute": "Total amount (€)", "op": "gt", "value": 10}
    assert problems(free, properties=True) == []
    inside_an_event = {"event": "purchase", "op": "none", "where": free}
    assert problems(inside_an_event) == []

    assert problems({"attribute": 'say "hi"', "op": "exists"}, properties=True) == [
        'property: property names cannot contain double quotes (") or backslashes (\\)'
    ]
    assert problems({"attribute": "a\x00b", "op": "exists"}, properties=True) == [
        "property: the property name contains invisible control characters; remove them"
    ]
    filtered = {"event": "purchase", "op": "none", "where": {"attribute": "a\\b", "op": "exists"}}
    assert problems(filtered) == [
        'filter, property: property names cannot contain double quotes (") or backslashes (\\)'
    ]


def test_the_place_of_a_problem_is_named_in_rules() -> None:
    raw = {"all": [CITY, {"any": [CITY, {"attribute": "score", "op": "eq", "value": 2**70}]}]}
    assert problems(raw) == [
        "rule 2, rule 2, value: the number is too large; whole numbers go up to"
        " 9,223,372,036,854,775,807"
    ]


# --- in scenario drafts: saved with their issues, refused at activation -----------------------


def draft_errors(raw: JsonDict) -> list[tuple[str | None, IssueCode, str | None, str]]:
    _, issues = check_draft(raw)
    return [(i.node, i.code, i.field, i.message) for i in issues if i.is_error]


def test_a_condition_block_beyond_the_limits_is_an_error_on_its_setting() -> None:
    raw = after_trigger(node("check", "condition", "if", **{"if": nested_not(60)}))

    assert draft_errors(raw) == [
        (
            "check",
            IssueCode.invalid_config,
            "config.if",
            "Block 'check': the condition cannot be used: groups are nested more than 10 levels"
            " deep; move some rules up a level",
        )
    ]


def test_a_condition_too_deep_to_parse_at_all_says_so_in_words() -> None:
    raw = after_trigger(node("check", "condition", "if", **{"if": nested_not(1000)}))

    assert draft_errors(raw) == [
        (
            "check",
            IssueCode.invalid_field,
            "config.if",
            "Block 'check': 'if' has groups nested more than 10 levels deep",
        )
    ]


def test_a_trigger_filter_is_checked_with_the_property_name_rules() -> None:
    where = {"attribute": "sku", "op": "in", "value": [str(i) for i in range(MAX_IN_VALUES + 1)]}
    raw = after_trigger()
    raw["nodes"][0]["config"]["where"] = where

    assert draft_errors(raw) == [
        (
            "start",
            IssueCode.invalid_config,
            "config.where",
            "Block 'start': the filter cannot be used: value: 'is one of' takes at most 500 values",
        )
    ]


def test_a_goal_condition_or_goal_event_beyond_the_limits_is_a_settings_error() -> None:
    goal = {"event": "purchase", "op": "count_gte", "value": 2**31}
    assert draft_errors(after_trigger(exit_when=goal)) == [
        (
            None,
            IssueCode.invalid_settings,
            "settings.exit_when",
            "Scenario settings: the goal cannot be used: value: the number of times can be at"
            " most 1,000,000",
        )
    ]
    assert draft_errors(after_trigger(exit_when={"event": "pur\x00chase"})) == [
        (
            None,
            IssueCode.invalid_settings,
            "settings.exit_when",
            "Scenario settings: the goal cannot be used: the event name contains invisible"
            " control characters; remove them",
        )
    ]


def test_half_of_a_unicode_pair_is_refused_in_values() -> None:
    # JSON can spell "\ud800" alone; no database can encode it.
    assert problems({"attribute": "city", "op": "eq", "value": "Ly\ud800on"}) == [
        "value: the text contains characters that are not valid Unicode"
    ]
    assert problems({"attribute": "city", "op": "in", "value": ["Lyon", "\udfff"]}) == [
        "value: the text contains characters that are not valid Unicode"
    ]
    assert problems({"attribute": "city", "op": "eq", "value": "Lyon 😀"}) == []
