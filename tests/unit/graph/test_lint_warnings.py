"""The linter: each warning on its block, in plain words saying what to do, and never an error;
beside each, a near miss that must stay silent."""

from __future__ import annotations

import re
from collections.abc import Mapping, Set
from typing import Any

import pytest

from app.graph import Issue, IssueCode, KnownRefs, MessageFacts, check_draft, has_errors
from app.graph.condition_sense import sense_of
from app.graph.conditions import parse_condition
from app.i18n import speaking
from tests.unit.graph.builders import after_trigger, link, node, scenario, trigger

LINT_CODES = {
    IssueCode.condition_never_true,
    IssueCode.condition_always_true,
    IssueCode.messages_back_to_back,
    IssueCode.wait_not_matched,
    IssueCode.no_goal,
    IssueCode.wait_never_left,
    IssueCode.webhook_refused,
    IssueCode.sms_too_long,
    IssueCode.field_mostly_missing,
}


def lint(raw: dict[str, Any], known: KnownRefs | None = None) -> list[Issue]:
    """The linter's warnings; each must be a warning (they never block activation)."""
    _, issues = check_draft(raw, known)
    found = [issue for issue in issues if issue.code in LINT_CODES]
    assert all(issue.severity == "warning" for issue in found)
    return found


def if_block(condition: dict[str, Any]) -> dict[str, Any]:
    return node("test", "condition", "if", **{"if": condition})


def with_if(condition: dict[str, Any]) -> dict[str, Any]:
    nodes = [trigger(), if_block(condition), node("yes", "action", "exit")]
    nodes.append(node("no", "action", "exit"))
    edges = [link("start", "test"), link("test", "yes", "yes"), link("test", "no", "no")]
    return scenario(nodes, edges)


def rule(attribute: str, op: str, value: Any = None) -> dict[str, Any]:
    found: dict[str, Any] = {"attribute": attribute, "op": op}
    if value is not None:
        found["value"] = value
    return found


# --- conditions that decide nothing ---------------------------------------------------------


def test_an_empty_any_group_is_never_true_and_every_contact_takes_no() -> None:
    (issue,) = lint(with_if({"any": []}))

    assert (issue.node, issue.code, issue.field) == (
        "test",
        IssueCode.condition_never_true,
        "config.if",
    )
    assert issue.message == (
        "Block 'test': this condition is never true (its group of rules of which one must hold "
        "is empty), so every contact takes NO; change it so that it can go both ways"
    )


def test_an_empty_all_group_is_always_true() -> None:
    (issue,) = lint(with_if({"all": []}))

    assert issue.code == IssueCode.condition_always_true
    assert "every contact takes YES" in issue.message


def test_a_number_range_with_no_number_in_it() -> None:
    condition = {"all": [rule("orders_count", "gte", 5), rule("orders_count", "lt", 2)]}

    (issue,) = lint(with_if(condition))

    assert issue.code == IssueCode.condition_never_true
    assert "'orders count ≥ 5' and 'orders count < 2' cannot both be true" in issue.message


@pytest.mark.parametrize(
    "condition",
    [
        {"all": [rule("orders_count", "gte", 2), rule("orders_count", "lt", 5)]},
        {"all": [rule("orders_count", "gte", 5), rule("orders_count", "lte", 5)]},
        {"any": [rule("orders_count", "gte", 5), rule("orders_count", "lt", 5)]},
        {"all": [rule("plan", "eq", "gold"), rule("city", "eq", "Lyon")]},
        {"all": [rule("plan", "eq", "Gold"), rule("plan", "eq", "gold")]},
        {"all": [rule("code", "eq", "1"), rule("code", "eq", 1)]},
        {"all": [rule("plan", "exists"), rule("plan", "ne", "gold")]},
        {"all": [{"event": "purchase", "op": "count_gte", "value": 1},
                 {"event": "purchase", "op": "count_lt", "value": 3}]},
        {"all": [{"event": "purchase", "op": "count_gte", "value": 1},
                 {"event": "purchase", "op": "none", "within_days": 7}]},
        {"any": [rule("plan", "eq", "gold")]},
    ],
)  # fmt: skip
def test_conditions_that_can_go_both_ways_are_left_alone(condition: dict[str, Any]) -> None:
    assert lint(with_if(condition)) == []


@pytest.mark.parametrize(
    ("condition", "verdict"),
    [
        ({"all": [rule("plan", "eq", "gold"), rule("plan", "eq", "silver")]}, "never"),
        ({"all": [rule("plan", "eq", "gold"), {"all": [rule("plan", "ne", "GOLD")]}]}, "never"),
        ({"all": [rule("vip", "eq", True), rule("vip", "eq", False)]}, "never"),
        ({"all": [rule("plan", "not_exists"), rule("plan", "ne", "gold")]}, "never"),
        ({"all": [rule("orders_count", "gt", 3), rule("orders_count", "eq", 3)]}, "never"),
        ({"any": [rule("plan", "exists"), rule("plan", "not_exists")]}, "always"),
        ({"all": [{"list": "vip", "op": "member"}, {"list": "vip", "op": "not_member"}]},
         "never"),
        ({"any": [{"consent": "sms", "op": "granted"}, {"consent": "sms", "op": "not_granted"}]},
         "always"),
        ({"all": [{"event": "purchase", "op": "count_gte", "value": 3},
                  {"event": "purchase", "op": "count_lt", "value": 2}]}, "never"),
        ({"all": [{"event": "purchase", "op": "count_gte", "value": 1},
                  {"event": "purchase", "op": "none"}]}, "never"),
        ({"any": [{"event": "purchase", "op": "count_gte", "value": 2},
                  {"event": "purchase", "op": "count_lt", "value": 2}]}, "always"),
        ({"event": "purchase", "op": "count_gte", "value": 0}, "always"),
        ({"not": {"any": []}}, "always"),
        ({"any": [rule("plan", "eq", "gold"), {"all": []}]}, "always"),
    ],
)  # fmt: skip
def test_what_a_condition_always_comes_to(condition: dict[str, Any], verdict: str) -> None:
    sense = sense_of(parse_condition(condition))

    assert sense is not None
    assert sense.verdict == verdict


def test_a_trigger_filter_that_is_never_true_never_starts_a_journey() -> None:
    where = {"all": [rule("total", "gt", 100), rule("total", "lt", 50)]}
    start = node("start", "trigger", "event", event="purchase", where=where)
    raw = scenario([start, node("end", "action", "exit")], [link("start", "end")])

    (issue,) = lint(raw)

    assert (issue.node, issue.field) == ("start", "config.where")
    assert "this trigger never starts a journey; change the filter" in issue.message


def test_a_goal_that_is_always_reached_lets_everyone_out_at_once() -> None:
    raw = after_trigger(node("end", "action", "exit"), exit_when={"any": [{"all": []}]})

    (issue,) = lint(raw)

    assert (issue.node, issue.code, issue.field) == (
        None,
        IssueCode.condition_always_true,
        "settings.exit_when",
    )
    assert issue.message.startswith("Scenario settings: the goal is reached at once")


def test_a_goal_that_can_never_be_reached() -> None:
    raw = after_trigger(node("end", "action", "exit"), exit_when={"any": []})

    (issue,) = lint(raw)

    assert issue.code == IssueCode.condition_never_true
    assert "so no contact leaves early; change the goal or remove it" in issue.message


# --- two messages at once -------------------------------------------------------------------


def email(node_id: str, message: str) -> dict[str, Any]:
    return node(node_id, "action", "send_email", message=message)


def test_two_messages_back_to_back() -> None:
    raw = after_trigger(email("hello", "welcome"), email("coupon", "welcome-coupon"))

    (issue,) = lint(raw)

    assert (issue.node, issue.code) == ("coupon", IssueCode.messages_back_to_back)
    assert issue.message == (
        "Block 'coupon': it is sent right after 'welcome' with no wait in between, so contacts "
        "get both at the same moment; add a 'Wait' block between them (a day is common)"
    )


def test_blocks_that_take_no_time_do_not_separate_two_messages() -> None:
    sms = node("sms", "action", "send_sms", message="promo-sms")
    raw = after_trigger(
        email("hello", "welcome"), node("tag", "action", "add_score", points=5), sms
    )

    assert [(i.node, i.code) for i in lint(raw)] == [("sms", IssueCode.messages_back_to_back)]


def test_a_wait_between_two_messages_is_enough() -> None:
    day = node("day", "delay", "wait", seconds=86_400)
    raw = after_trigger(email("hello", "welcome"), day, email("coupon", "welcome-coupon"))

    assert lint(raw) == []


def test_messages_on_the_two_sides_of_a_condition_are_not_back_to_back() -> None:
    nodes = [
        trigger(),
        if_block(rule("plan", "eq", "gold")),
        email("gold", "gold-offer"),
        email("other", "other-offer"),
    ]
    edges = [link("start", "test"), link("test", "gold", "yes"), link("test", "other", "no")]

    assert lint(scenario(nodes, edges)) == []


# --- waits for an event ---------------------------------------------------------------------


def cart_scenario(match_key: str | None, **settings: Any) -> dict[str, Any]:
    config: dict[str, Any] = {"event": "purchase", "timeout_seconds": 3600}
    if match_key is not None:
        config["match_key"] = match_key
    nodes = [
        node("cart", "trigger", "event", event="cart_updated", key="cart_id"),
        node("hour", "delay", "wait_for_event", **config),
        email("reminder", "cart-reminder"),
        node("bought", "action", "exit"),
    ]
    edges = [link("cart", "hour"), link("hour", "reminder", "no"), link("hour", "bought", "yes")]
    return scenario(nodes, edges, **settings)


def test_a_wait_that_takes_the_event_of_any_cart() -> None:
    (issue,) = lint(cart_scenario(None))

    assert (issue.node, issue.code, issue.field) == (
        "hour",
        IssueCode.wait_not_matched,
        "config.match_key",
    )
    assert issue.message == (
        "Block 'hour': each journey is about one 'cart_id' (the trigger's instance), but this "
        "wait takes any 'purchase', even one for another 'cart_id'; set 'Same … as the trigger "
        "(optional)' to 'cart_id'"
    )


def test_a_wait_matched_on_the_trigger_key_is_fine() -> None:
    assert lint(cart_scenario("cart_id")) == []


def test_a_wait_after_a_trigger_without_instance_needs_no_key() -> None:
    wait = node("later", "delay", "wait_for_event", event="email_opened", timeout_seconds=60)
    raw = after_trigger(wait)

    assert lint(raw) == []


def test_a_wait_for_the_goal_event_is_never_left_by_yes() -> None:
    raw = cart_scenario("cart_id", exit_when={"event": "purchase"})
    raw["nodes"][3] = email("bought", "thanks")

    (issue,) = lint(raw)

    assert (issue.node, issue.code, issue.field) == (
        "hour",
        IssueCode.wait_never_left,
        "config.event",
    )
    assert "no contact ever leaves this wait by YES: 'purchase' is also the scenario's goal" in (
        issue.message
    )


def test_a_wait_for_the_goal_event_that_only_exits_on_yes_loses_nothing() -> None:
    """The abandoned-cart template: YES leads to an exit, which the goal does anyway."""
    assert lint(cart_scenario("cart_id", exit_when={"event": "purchase"})) == []


# --- segments and goals ---------------------------------------------------------------------


def segment_scenario(**settings: Any) -> dict[str, Any]:
    start = node("start", "trigger", "segment_entered", segment="active")
    return scenario([start, email("hello", "welcome")], [link("start", "hello")], **settings)


def test_a_segment_triggered_scenario_without_a_goal() -> None:
    (issue,) = lint(segment_scenario())

    assert (issue.node, issue.code, issue.field) == (
        "start",
        IssueCode.no_goal,
        "settings.exit_when",
    )
    assert "set a goal in the scenario settings" in issue.message


def test_a_segment_triggered_scenario_with_a_goal() -> None:
    assert lint(segment_scenario(exit_when={"event": "purchase"})) == []


# --- what the database knows, given as functions -------------------------------------------


def refuse_private(url: str) -> str | None:
    return "10.0.0.5 is a private or reserved network address" if "10.0.0.5" in url else None


def facts_of(table: Mapping[str, MessageFacts]) -> Any:
    calls: list[set[str]] = []

    def facts(keys: Set[str]) -> Mapping[str, MessageFacts]:
        calls.append(set(keys))
        return {key: table[key] for key in keys if key in table}

    return facts, calls


def known(**given: Any) -> KnownRefs:
    messages: dict[str, Any] = {"welcome": "email", "cart-reminder": "email", "long-sms": "sms"}
    messages |= {"short-sms": "sms", "plan-news": "email"}
    return KnownRefs(messages=messages, segments=frozenset({"active"}), **given)


def test_a_webhook_to_an_address_the_sender_refuses() -> None:
    hook = node("hook", "action", "webhook", url="http://10.0.0.5/hook")
    near = node("near", "action", "webhook", url="https://hooks.example.com/x")
    raw = after_trigger(hook, near)

    issues = lint(raw, known(webhook_refusal=refuse_private))

    assert [(i.node, i.code, i.field) for i in issues] == [
        ("hook", IssueCode.webhook_refused, "config.url")
    ]
    assert issues[0].message == (
        "Block 'hook': the server will refuse to call this address: 10.0.0.5 is a private or "
        "reserved network address; use a public address, or ask your administrator to add it "
        "to PARCOURS_WEBHOOK_ALLOW if it is meant"
    )


def test_an_sms_over_three_segments() -> None:
    facts, _calls = facts_of(
        {"long-sms": MessageFacts(sms_segments=4), "short-sms": MessageFacts(sms_segments=3)}
    )
    day = node("day", "delay", "wait", seconds=86_400)
    long_sms = node("long", "action", "send_sms", message="long-sms")
    short_sms = node("short", "action", "send_sms", message="short-sms")
    raw = after_trigger(long_sms, day, short_sms)

    issues = lint(raw, known(message_facts=facts))

    assert [(i.node, i.code) for i in issues] == [("long", IssueCode.sms_too_long)]
    assert issues[0].message == (
        "Block 'long': 'long-sms' takes 4 SMS segments for the sample contact, each sent and "
        "billed as one SMS; shorten it to 3 segments or fewer"
    )


def test_a_message_showing_a_field_most_contacts_lack() -> None:
    facts, calls = facts_of({"plan-news": MessageFacts(fields=frozenset({"plan", "city"}))})
    asked: list[set[str]] = []

    def shares(names: Set[str]) -> Mapping[str, float]:
        asked.append(set(names))
        return {"plan": 0.12, "city": 0.5}

    raw = after_trigger(email("news", "plan-news"))

    issues = lint(raw, known(message_facts=facts, attribute_shares=shares))

    assert [(i.node, i.code) for i in issues] == [("news", IssueCode.field_mostly_missing)]
    assert issues[0].message == (
        "Block 'news': only 12% of your contacts have 'plan', which 'plan-news' shows: the "
        "others see a blank there; give it a fallback, e.g. {{ contact.plan | default('…') }}, "
        "or fill it in for more contacts"
    )
    # Each asked once, for what the scenario sends: one query each in the caller.
    assert calls == [{"plan-news"}]
    assert asked == [{"plan", "city"}]


def test_nothing_is_asked_of_the_database_for_a_scenario_that_sends_nothing() -> None:
    facts, calls = facts_of({})
    raw = after_trigger(node("end", "action", "exit"))

    assert lint(raw, known(message_facts=facts)) == []
    assert calls == []


def test_the_warnings_never_block_activation() -> None:
    raw = cart_scenario(None)
    raw["nodes"].append(if_block({"any": []}))
    raw["edges"][0] = link("cart", "test")
    raw["edges"] += [link("test", "hour", "yes"), link("test", "bought", "no")]

    _, issues = check_draft(raw, known())

    assert any(issue.code == IssueCode.condition_never_true for issue in issues)
    assert not has_errors(issues)


# --- French ---------------------------------------------------------------------------------


def test_the_warnings_in_french() -> None:
    facts, _calls = facts_of(
        {
            "long-sms": MessageFacts(sms_segments=5),
            "plan-news": MessageFacts(fields=frozenset({"plan"})),
        }
    )
    day = node("day", "delay", "wait", seconds=86_400)
    raw = after_trigger(
        if_block({"all": [rule("orders_count", "gte", 5), rule("orders_count", "lt", 2)]}),
        email("news", "plan-news"),
        node("sms", "action", "send_sms", message="long-sms"),
        day,
        node("hook", "action", "webhook", url="http://10.0.0.5/hook"),
    )
    with speaking("fr"):
        issues = lint(
            raw,
            known(
                message_facts=facts,
                attribute_shares=lambda names: {"plan": 0.12},
                webhook_refusal=refuse_private,
            ),
        )
        by_code = {issue.code: issue.message for issue in issues}
        segment = lint(segment_scenario())[0].message
        cart = lint(cart_scenario(None))[0].message

    assert by_code[IssueCode.condition_never_true].startswith(
        "Le bloc « test » : cette condition n’est jamais vraie (« orders count ≥ 5 » et "
        "« orders count < 2 » ne peuvent pas être vrais en même temps), chaque contact passe "
        "donc par NON"
    )
    # French writes a (narrow) space before the percent sign.
    assert re.search(r"seuls 12\s%", by_code[IssueCode.field_mostly_missing])
    assert "5 segments SMS" in by_code[IssueCode.sms_too_long]
    assert "envoyé juste après" in by_code[IssueCode.messages_back_to_back]
    assert "le serveur refusera d’appeler cette adresse" in by_code[IssueCode.webhook_refused]
    assert "objectif" in segment
    assert "« Même … que le déclencheur (facultatif) »" in cart
