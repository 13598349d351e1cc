"""Validation: every rule, with the plain message the canvas shows on the block."""

from __future__ import annotations

from typing import Any

import pytest

from app.graph import Issue, IssueCode, KnownRefs, check_draft, has_errors
from tests.unit.graph.builders import (
    DESIGN_KNOWN,
    after_trigger,
    design_example,
    link,
    node,
    scenario,
    trigger,
)

KNOWN = KnownRefs(
    messages={"welcome": "email", "promo-sms": "sms"},
    lists=frozenset({"newsletter"}),
    segments=frozenset({"active"}),
)
email = node("mail", "action", "send_email", message="welcome")


def issues_of(raw: dict[str, Any], known: KnownRefs | None = KNOWN) -> list[Issue]:
    _, issues = check_draft(raw, known)
    return issues


def summary(issues: list[Issue]) -> list[tuple[str | None, IssueCode, str, str]]:
    return [(i.node, i.code, i.severity, i.message) for i in issues]


def test_a_scenario_without_a_trigger_says_so_once() -> None:
    raw = scenario([email, node("wait", "delay", "wait", seconds=60)], [link("wait", "mail")])

    assert summary(issues_of(raw)) == [
        (None, IssueCode.no_trigger, "error",
         "The scenario has no trigger: add one to say when contacts enter"),
    ]  # fmt: skip


def test_a_block_no_trigger_leads_to_is_unreachable() -> None:
    raw = scenario([trigger(), email, node("lost", "action", "exit")], [link("start", "mail")])

    assert summary(issues_of(raw)) == [
        ("lost", IssueCode.unreachable, "error",
         "Block 'lost' can't be reached from any trigger, so no contact will ever get there"),
    ]  # fmt: skip


def test_a_loop_is_an_error_naming_its_blocks() -> None:
    a = node("a", "delay", "wait", seconds=60)
    b = node("b", "delay", "wait", seconds=60)
    raw = scenario([trigger(), a, b], [link("start", "a"), link("a", "b"), link("b", "a")])

    assert summary(issues_of(raw)) == [
        ("a", IssueCode.cycle, "error",
         "Blocks 'a', 'b' lead back to each other; a journey can't loop"),
    ]  # fmt: skip


def test_a_block_linked_to_itself_is_a_loop() -> None:
    raw = scenario([trigger(), email], [link("start", "mail"), link("mail", "mail")])

    assert [i.message for i in issues_of(raw)] == [
        "Block 'mail' is linked to itself; a journey can't loop"
    ]


def test_separate_loops_are_each_reported() -> None:
    blocks = [node(name, "delay", "wait", seconds=1) for name in "abcd"]
    edges = [link("start", "a"), link("a", "b"), link("b", "a"), link("start", "c", None)]
    edges += [link("c", "d"), link("d", "c")]
    issues = issues_of(scenario([trigger(), *blocks], edges))

    assert [(i.node, i.code) for i in issues if i.code == IssueCode.cycle] == [
        ("a", IssueCode.cycle),
        ("c", IssueCode.cycle),
    ]


def test_an_output_linked_twice_is_an_error() -> None:
    other = node("other", "action", "exit")
    raw = scenario([trigger(), email, other], [link("start", "mail"), link("start", "other")])

    assert summary(issues_of(raw)) == [
        ("start", IssueCode.port_wired_twice, "error",
         "Block 'start': its output is linked to several blocks ('mail', 'other'); a path can"
         " lead to only one block"),
    ]  # fmt: skip


def test_a_yes_output_linked_twice_names_the_output() -> None:
    check = node("check", "condition", "if", **{"if": {"list": "newsletter", "op": "member"}})
    edges = [link("start", "check"), link("check", "mail", "yes"), link("check", "end", "yes")]
    edges.append(link("check", "end", "no"))
    raw = scenario([trigger(), check, email, node("end", "action", "exit")], edges)

    assert [i.message for i in issues_of(raw)] == [
        "Block 'check': its YES output is linked to several blocks ('mail', 'end'); a path can"
        " lead to only one block"
    ]


def test_links_to_or_from_blocks_that_do_not_exist() -> None:
    raw = scenario([trigger(), email], [link("start", "mail"), link("ghost", "mail")])
    raw["edges"].append(link("mail", "nowhere"))

    assert summary(issues_of(raw)) == [
        (None, IssueCode.edge_unknown_node, "error",
         "A link starts from block 'ghost', which doesn't exist"),
        ("mail", IssueCode.edge_unknown_node, "error",
         "Block 'mail' is linked to block 'nowhere', which doesn't exist"),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("source", "port", "message"),
    [
        (email, "yes", "Block 'mail' has no 'yes' output; it has a single output"),
        (node("end", "action", "exit"), "out",
         "Block 'end' has no 'out' output; it ends the journey, so nothing can follow it"),
        (node("check", "condition", "if", **{"if": {"list": "newsletter", "op": "member"}}), "out",
         "Block 'check' has no 'out' output; use its YES or NO output"),
    ],
)  # fmt: skip
def test_a_link_from_an_output_the_block_does_not_have(
    source: dict[str, Any], port: str, message: str
) -> None:
    target = node("after", "action", "exit")
    raw = scenario([trigger(), source, target], [link("start", source["id"])])
    raw["edges"].append(link(source["id"], "after", port))

    found = [i for i in issues_of(raw) if i.code == IssueCode.unknown_port]

    assert [(i.node, i.message) for i in found] == [(source["id"], message)]


def test_nothing_can_lead_into_a_trigger() -> None:
    raw = scenario([trigger(), email, trigger("again")], [link("start", "mail")])
    raw["edges"] += [link("mail", "again"), link("again", "mail")]

    assert summary(issues_of(raw)) == [
        ("again", IssueCode.edge_into_trigger, "error",
         "Block 'again' is a trigger: journeys start there, so no link can lead into it"),
    ]  # fmt: skip


def test_unlinked_yes_or_no_outputs_are_warnings_that_do_not_block_activation() -> None:
    check = node("check", "condition", "if", **{"if": {"list": "newsletter", "op": "member"}})
    waiting = node("wait", "delay", "wait_for_event", event="purchase", timeout_seconds=3600)
    edges = [link("start", "check"), link("check", "wait", "yes"), link("wait", "mail", "yes")]
    issues = issues_of(scenario([trigger(), check, waiting, email], edges))

    assert summary(issues) == [
        ("check", IssueCode.port_unwired, "warning",
         "Block 'check': nothing is linked to the NO output, so the journey ends here for"
         " contacts who answer NO"),
        ("wait", IssueCode.port_unwired, "warning",
         "Block 'wait': nothing is linked to the NO output, so the journey ends here for"
         " contacts whose event doesn't come in time"),
    ]  # fmt: skip
    assert not has_errors(issues)


def test_a_trigger_with_nothing_after_it_is_a_warning() -> None:
    assert summary(issues_of(scenario([trigger()], []))) == [
        ("start", IssueCode.trigger_leads_nowhere, "warning",
         "Block 'start': nothing follows this trigger, so contacts enter and leave at once"),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("block", "code", "message"),
    [
        (node("b", "action", "notify_team", message="Hot lead"), IssueCode.missing_config,
         "Block 'b': enter the email address to alert"),
        (node("b", "action", "notify_team", to="  ", message="Hot lead"),
         IssueCode.missing_config, "Block 'b': enter the email address to alert"),
        (node("b", "action", "notify_team", to="sales", message="Hot lead"),
         IssueCode.invalid_config, "Block 'b': 'sales' is not an email address"),
        (node("b", "action", "notify_team", to="sales@example.com"), IssueCode.missing_config,
         "Block 'b': write the message for your team"),
        (node("b", "delay", "wait"), IssueCode.missing_config, "Block 'b': set how long to wait"),
        (node("b", "delay", "wait", seconds=0), IssueCode.invalid_config,
         "Block 'b': the wait must be longer than zero"),
        (node("b", "delay", "wait", seconds=-60), IssueCode.invalid_config,
         "Block 'b': the wait must be longer than zero"),
        (node("b", "delay", "wait_for_event", event="purchase"), IssueCode.missing_config,
         "Block 'b': set how long to wait before taking the NO path"),
        (node("b", "delay", "wait_for_event", timeout_seconds=60), IssueCode.missing_config,
         "Block 'b': choose the event to wait for"),
        (node("b", "delay", "wait_until", at="25:00"), IssueCode.invalid_config,
         "Block 'b': '25:00' is not a time of day; use HH:MM, e.g. 09:00"),
        (node("b", "delay", "wait_until", at="9:00"), IssueCode.invalid_config,
         "Block 'b': '9:00' is not a time of day; use HH:MM, e.g. 09:00"),
        (node("b", "delay", "wait_until"), IssueCode.missing_config,
         "Block 'b': choose the time of day to wait for"),
        (node("b", "delay", "wait_until", at="09:00", weekdays=[]), IssueCode.invalid_config,
         "Block 'b': choose at least one day of the week"),
        (node("b", "delay", "wait_until", at="09:00", weekdays=["monday"]),
         IssueCode.invalid_config,
         "Block 'b': 'monday' is not a day; use mon, tue, wed, thu, fri, sat, sun"),
        (node("b", "action", "send_email"), IssueCode.missing_config,
         "Block 'b': choose the email to send"),
        (node("b", "action", "send_sms", message=""), IssueCode.missing_config,
         "Block 'b': choose the SMS to send"),
        (node("b", "action", "add_to_list"), IssueCode.missing_config,
         "Block 'b': choose the list"),
        (node("b", "action", "update_attribute", attribute="plan"), IssueCode.missing_config,
         "Block 'b': set the new value or an amount to add"),
        (node("b", "action", "update_attribute", attribute="plan", value="pro", increment=1),
         IssueCode.invalid_config,
         "Block 'b': set either a new value or an amount to add, not both"),
        (node("b", "action", "update_attribute", attribute="email", increment=1),
         IssueCode.invalid_config, "Block 'b': email is not a number"),
        (node("b", "action", "update_attribute", value=1), IssueCode.missing_config,
         "Block 'b': choose the attribute to update"),
        (node("b", "action", "add_score"), IssueCode.missing_config,
         "Block 'b': set how many points to add (or remove)"),
        (node("b", "action", "webhook"), IssueCode.missing_config,
         "Block 'b': enter the address to call"),
        (node("b", "action", "webhook", url="example.com"), IssueCode.invalid_config,
         "Block 'b': the address must start with http:// or https://"),
        (node("b", "action", "webhook", url="https://example.com", method="FETCH"),
         IssueCode.invalid_config,
         "Block 'b': 'FETCH' is not one of GET, POST, PUT, PATCH, DELETE"),
        (node("b", "condition", "if"), IssueCode.missing_config,
         "Block 'b': set the condition to test"),
    ],
)  # fmt: skip
def test_missing_or_unusable_settings(block: dict[str, Any], code: IssueCode, message: str) -> None:
    issues = [i for i in issues_of(after_trigger(block)) if i.code != IssueCode.port_unwired]

    assert [(i.node, i.code, i.severity, i.message) for i in issues] == [
        ("b", code, "error", message)
    ]


@pytest.mark.parametrize(
    ("block", "code", "message"),
    [
        (node("start", "trigger", "event"), IssueCode.missing_config,
         "Block 'start': choose the event that starts the journey"),
        (node("start", "trigger", "event", event="order", where={"list": "vip", "op": "member"}),
         IssueCode.invalid_config,
         "Block 'start': the filter can only compare the event's properties"),
        (node("start", "trigger", "list_added"), IssueCode.missing_config,
         "Block 'start': choose the list"),
        (node("start", "trigger", "date_anniversary", at="09:00"), IssueCode.missing_config,
         "Block 'start': choose the date to celebrate"),
        (node("start", "trigger", "date_anniversary", attribute="birthday"),
         IssueCode.missing_config, "Block 'start': choose the time of day to start the journey"),
        (node("start", "trigger", "date_anniversary", attribute="birthday", at="09:00",
              offset_days=400),
         IssueCode.invalid_config, "Block 'start': the offset must be within a year"),
        (node("start", "trigger", "attribute_changed"), IssueCode.missing_config,
         "Block 'start': choose the attribute to watch"),
        (node("start", "trigger", "score_reached"), IssueCode.missing_config,
         "Block 'start': set the score to reach"),
        (node("start", "trigger", "segment_entered"), IssueCode.missing_config,
         "Block 'start': choose the segment"),
    ],
)  # fmt: skip
def test_missing_or_unusable_trigger_settings(
    block: dict[str, Any], code: IssueCode, message: str
) -> None:
    # With a goal, as a segment-triggered scenario should have (the linter asks for one).
    raw = scenario([block, email], [link("start", "mail")], exit_when={"event": "purchase"})

    assert [(i.code, i.message) for i in issues_of(raw)] == [(code, message)]


def test_zero_points_is_only_a_warning() -> None:
    issues = issues_of(after_trigger(node("b", "action", "add_score", points=0)))

    assert summary(issues) == [
        ("b", IssueCode.invalid_config, "warning",
         "Block 'b': 0 points leaves the score unchanged"),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("block", "code", "message"),
    [
        (node("b", "action", "send_email", message="gone"), IssueCode.unknown_message,
         "Block 'b': there is no message template 'gone'"),
        (node("b", "action", "send_email", message="promo-sms"), IssueCode.wrong_channel,
         "Block 'b': 'promo-sms' is an SMS template; this block sends an email"),
        (node("b", "action", "send_sms", message="welcome"), IssueCode.wrong_channel,
         "Block 'b': 'welcome' is an email template; this block sends an SMS"),
        (node("b", "action", "add_to_list", list="vip"), IssueCode.unknown_list,
         "Block 'b': there is no list 'vip'"),
        (node("b", "action", "remove_from_list", list="vip"), IssueCode.unknown_list,
         "Block 'b': there is no list 'vip'"),
        (node("b", "condition", "if",
              **{"if": {"not": {"any": [{"list": "vip", "op": "member"}]}}}),
         IssueCode.unknown_list, "Block 'b': there is no list 'vip'"),
    ],
)  # fmt: skip
def test_references_to_things_that_do_not_exist(
    block: dict[str, Any], code: IssueCode, message: str
) -> None:
    issues = [i for i in issues_of(after_trigger(block)) if i.code != IssueCode.port_unwired]

    assert [(i.node, i.code, i.message) for i in issues] == [("b", code, message)]


def test_trigger_references_are_checked_too() -> None:
    lists = scenario([node("start", "trigger", "list_removed", list="vip"), email], [])
    lists["edges"].append(link("start", "mail"))
    segment = scenario(
        [node("start", "trigger", "segment_entered", segment="vip"), email],
        [],
        exit_when={"event": "purchase"},
    )
    segment["edges"].append(link("start", "mail"))

    assert [i.message for i in issues_of(lists)] == ["Block 'start': there is no list 'vip'"]
    assert [i.message for i in issues_of(segment)] == ["Block 'start': there is no segment 'vip'"]


def test_references_are_not_checked_when_nothing_is_known() -> None:
    raw = after_trigger(node("b", "action", "send_email", message="gone"))

    assert issues_of(raw, known=None) == []


def test_scenario_settings_are_checked() -> None:
    negative = after_trigger(email, reentry="always", cooldown_seconds=-1)
    useless = after_trigger(email, reentry="once", cooldown_seconds=3600)
    goal = after_trigger(email, exit_when={"list": "vip", "op": "member"})

    assert summary(issues_of(negative)) == [
        (None, IssueCode.invalid_settings, "error",
         "Scenario settings: the wait before re-entering can't be negative"),
    ]  # fmt: skip
    assert summary(issues_of(useless)) == [
        (None, IssueCode.invalid_settings, "warning",
         "Scenario settings: the wait before re-entering has no effect when contacts enter only"
         " once"),
    ]  # fmt: skip
    assert summary(issues_of(goal)) == [
        (None, IssueCode.unknown_list, "error", "Scenario settings: there is no list 'vip'"),
    ]


def test_every_issue_is_reported_at_once() -> None:
    raw = scenario(
        [trigger(), node("w", "delay", "wait", seconds=0), node("m", "action", "send_sms")],
        [link("start", "w"), link("w", "m"), link("m", "w"), link("m", "ghost")],
    )

    assert {(i.node, i.code) for i in issues_of(raw)} == {
        ("w", IssueCode.invalid_config),
        ("m", IssueCode.missing_config),
        ("m", IssueCode.edge_unknown_node),
        ("w", IssueCode.cycle),
    }


def test_issues_point_at_the_setting_at_fault() -> None:
    [issue] = issues_of(after_trigger(node("w", "delay", "wait", seconds=0)))

    assert issue.field == "config.seconds"


def test_the_design_example_is_clean_and_a_broken_copy_is_not() -> None:
    raw = design_example()
    assert issues_of(raw, DESIGN_KNOWN) == []

    raw["edges"].pop()  # the NO path

    issues = issues_of(raw, DESIGN_KNOWN)
    assert [(i.node, i.code) for i in issues] == [
        ("loyal", IssueCode.unreachable),
        ("first", IssueCode.port_unwired),
    ]
    assert has_errors(issues)
