"""Reading a saved draft: it never raises, keeps what it can and names the block at fault."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from app.graph import (
    Document,
    EventCondition,
    ExitOnEvent,
    IssueCode,
    check_draft,
    parse_document,
)
from app.graph.flow_blocks import WaitBlock
from tests.unit.graph.builders import after_trigger, design_example, link, node, scenario, trigger


def codes_and_messages(raw: Any) -> list[tuple[IssueCode, str]]:
    _, issues = parse_document(raw)
    return [(issue.code, issue.message) for issue in issues]


def test_an_unknown_block_type_is_rejected_naming_the_block() -> None:
    raw = scenario([trigger(), node("odd", "gadget", "wait")], [link("start", "odd")])

    assert codes_and_messages(raw) == [
        (
            IssueCode.unknown_block_type,
            "Block 'odd' has an unknown type 'gadget'; expected one of trigger, condition, delay,"
            " action",
        )
    ]


def test_an_unknown_kind_is_rejected_naming_the_block_and_the_kinds_it_could_be() -> None:
    [(code, message)] = codes_and_messages(after_trigger(node("pause", "delay", "nap")))

    assert code == IssueCode.unknown_block_kind
    assert message == (
        "Block 'pause': 'nap' is not a kind of delay; expected one of wait, wait_until,"
        " wait_for_event, wait_for_condition"
    )


def test_links_to_an_unreadable_block_are_left_out_without_more_noise() -> None:
    document, issues = check_draft(after_trigger(node("pause", "delay", "nap")))

    assert document is not None
    assert document.edges == []
    assert [issue.code for issue in issues] == [
        IssueCode.unknown_block_kind,
        IssueCode.trigger_leads_nowhere,
    ]


def test_an_unknown_setting_is_rejected_naming_the_block_and_the_block_is_kept() -> None:
    raw = after_trigger(node("promo", "action", "send_email", message="welcome", colour="red"))

    document, issues = parse_document(raw)

    assert [(i.node, i.code, i.field, i.message) for i in issues] == [
        ("promo", IssueCode.unknown_field, "config.colour",
         "Block 'promo': 'colour' is not a known setting"),
    ]  # fmt: skip
    assert document is not None
    assert document.blocks_by_id()["promo"].summary() == "Send email 'welcome'"


def test_an_unknown_key_on_the_block_itself_is_rejected_naming_the_block() -> None:
    block = {**node("w", "delay", "wait", seconds=60), "colour": "red"}

    assert codes_and_messages(after_trigger(block)) == [
        (IssueCode.unknown_field, "Block 'w': 'colour' is not a known setting")
    ]


def test_a_setting_of_the_wrong_type_is_reported_once_not_also_as_missing() -> None:
    document, issues = check_draft(after_trigger(node("w", "delay", "wait", seconds="two days")))

    assert [(i.code, i.message) for i in issues] == [
        (IssueCode.invalid_field, "Block 'w': 'seconds' must be a whole number")
    ]
    assert document is not None
    assert isinstance(document.blocks_by_id()["w"], WaitBlock)


def test_settings_that_are_not_an_object_are_reported_once() -> None:
    _, issues = check_draft(after_trigger({**node("m", "action", "send_email"), "config": 3}))

    assert [(i.code, i.message) for i in issues] == [
        (IssueCode.invalid_field, "Block 'm': 'config' must be an object")
    ]


def test_a_broken_condition_is_not_also_reported_as_missing() -> None:
    raw = after_trigger(node("check", "condition", "if", **{"if": {"attribute": "plan"}}))

    _, issues = check_draft(raw)

    assert [(i.code, i.field) for i in issues if i.node == "check"] == [
        (IssueCode.invalid_field, "config.if"),
        (IssueCode.port_unwired, None),
        (IssueCode.port_unwired, None),
    ]


def test_an_incomplete_draft_loads_and_the_gap_is_a_validation_issue() -> None:
    raw = after_trigger(node("promo", "action", "send_email"))

    document, parse_issues = parse_document(raw)
    _, issues = check_draft(raw)

    assert document is not None
    assert parse_issues == []
    assert [(i.code, i.message) for i in issues] == [
        (IssueCode.missing_config, "Block 'promo': choose the email to send")
    ]


def test_every_broken_part_of_a_condition_is_reported_with_its_place() -> None:
    condition = {
        "all": [
            {"attribute": "plan", "op": "is"},
            {"attribute": "country", "op": "in", "value": "FR"},
            {"colour": "red"},
        ]
    }
    raw = after_trigger(node("check", "condition", "if", **{"if": condition}))

    messages = [message for _, message in codes_and_messages(raw)]

    assert messages == [
        "Block 'check': 'if.all.0.op' must be one of 'eq', 'ne', 'gt', 'gte', 'lt', 'lte',"
        " 'contains', 'starts_with', 'in', 'exists', 'not_exists', 'before', 'after',"
        " 'within_last_days' or 'older_than_days'",
        "Block 'check': 'if.all.1' is not valid: 'is one of' needs a list of at least one value",
        "Block 'check': 'if.all.2' is not valid: a condition must be an object with one of: all,"
        " any, not, attribute, event, list, consent",
    ]


@pytest.mark.parametrize(
    ("raw", "code", "message"),
    [
        ([], IssueCode.invalid_document, "The scenario must be a JSON object"),
        ({"schema": 2}, IssueCode.unsupported_schema,
         "This scenario uses format version 2; only version 1 can be read"),
    ],
)  # fmt: skip
def test_what_cannot_be_read_at_all_gives_no_document(
    raw: Any, code: IssueCode, message: str
) -> None:
    document, issues = parse_document(raw)

    assert document is None
    assert [(issue.code, issue.message) for issue in issues] == [(code, message)]


def test_an_empty_object_is_an_empty_draft() -> None:
    document, issues = parse_document({})

    assert issues == []
    assert document == Document.model_validate({"schema": 1})


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (scenario([trigger(), trigger()], []),
         [(IssueCode.duplicate_id, "Block 'start': another block already uses this id")]),
        (scenario([{"type": "trigger", "kind": "manual"}], []),
         [(IssueCode.invalid_block, "The block at position 1 has no id")]),
        (scenario(["not a block"], []),
         [(IssueCode.invalid_block, "The block at position 1 has no id")]),
        (scenario([trigger()], [{"from": "start"}]),
         [(IssueCode.invalid_edge, "The link at position 1: 'to' is missing")]),
        (scenario([trigger()], [{"from": "start", "to": "x", "port": 1}]),
         [(IssueCode.invalid_edge, "The link at position 1: 'port' must be text")]),
        (scenario([trigger()], [7]),
         [(IssueCode.invalid_edge, "The link at position 1 is not an object")]),
        ({"schema": 1, "nodes": {}}, [(IssueCode.invalid_document, "'nodes' must be a list")]),
        ({"schema": 1, "zoom": 2}, [(IssueCode.unknown_field, "'zoom' is not part of a scenario")]),
        (scenario([], [], reentry="twice"),
         [(IssueCode.invalid_settings,
           "Scenario settings: 'reentry' must be one of 'once', 'after_exit' or 'always'")]),
        ({"schema": 1, "settings": "often"},
         [(IssueCode.invalid_settings,
           "The scenario settings must be an object; the defaults are used")]),
    ],
)  # fmt: skip
def test_malformed_parts_are_reported_in_plain_words(
    raw: Any, expected: list[tuple[IssueCode, str]]
) -> None:
    assert codes_and_messages(raw) == expected


def test_a_bad_setting_falls_back_to_its_default() -> None:
    document, _ = parse_document(scenario([], [], reentry="twice", cooldown_seconds=60))

    assert document is not None
    assert document.settings.reentry == "once"
    assert document.settings.cooldown_seconds == 60


def test_exit_when_accepts_the_event_shorthand_and_conditions() -> None:
    shorthand, _ = parse_document(scenario([], [], exit_when={"event": "purchase"}))
    condition, _ = parse_document(
        scenario([], [], exit_when={"event": "purchase", "op": "count_gte", "value": 1})
    )

    assert shorthand is not None
    assert condition is not None
    assert isinstance(shorthand.settings.exit_when, ExitOnEvent)
    assert isinstance(condition.settings.exit_when, EventCondition)


def test_the_strict_model_refuses_what_the_lenient_parser_reports() -> None:
    raw = design_example()
    raw["nodes"].append(dict(raw["nodes"][0]))

    with pytest.raises(ValidationError, match="two blocks share the id 'start'"):
        Document.model_validate(raw)


def test_numbers_given_as_text_are_not_guessed() -> None:
    _, issues = parse_document(after_trigger(node("w", "delay", "wait", seconds="60")))

    assert [issue.code for issue in issues] == [IssueCode.invalid_field]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(
            st.sampled_from(["id", "type", "kind", "config", "from", "to", "port", "if", "all"]),
            children,
            max_size=4,
        )
    ),
    max_leaves=12,
)
drafts = st.fixed_dictionaries(
    {},
    optional={
        "schema": st.just(1),
        "nodes": st.lists(
            st.fixed_dictionaries(
                {
                    "id": st.sampled_from(["a", "b", "c"]),
                    "type": st.sampled_from(["trigger", "condition", "delay", "action", "x"]),
                    "kind": st.sampled_from(["event", "if", "wait", "send_email", "exit", "y"]),
                },
                optional={"config": json_values, "x": json_values},
            )
            | json_values,
            max_size=4,
        ),
        "edges": st.lists(json_values, max_size=4),
        "settings": json_values,
    },
)


@given(st.one_of(json_values, drafts))
def test_reading_any_json_never_raises(raw: Any) -> None:
    document, issues = check_draft(raw)

    assert document is not None or issues
