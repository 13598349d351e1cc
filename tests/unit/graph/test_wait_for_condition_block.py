"""The "Wait for a condition" block (CONTRACTS-2 §D): its settings, its summary in both
languages, what wakes it, its plan, its stored words and the linter's warnings about it."""

from __future__ import annotations

from typing import Any

from app.graph import Issue, IssueCode, check_draft, compile_document, parse_condition
from app.graph.verdict_phrases import condition_phrase
from app.graph.wait_condition_blocks import WaitForConditionConfig, wakes, wakes_on
from app.i18n import speaking
from tests.unit.graph.builders import link, node, scenario, trigger

PAID = {"attribute": "plan", "op": "eq", "value": "paid"}
TWO_WEEKS = 14 * 86_400


def waiting_for(
    condition: dict[str, Any] | None, timeout: int | None = TWO_WEEKS, **settings: Any
) -> dict[str, Any]:
    config: dict[str, Any] = {}
    if condition is not None:
        config["if"] = condition
    if timeout is not None:
        config["timeout_seconds"] = timeout
    nodes = [
        trigger(),
        node("paid", "delay", "wait_for_condition", **config),
        node("thanks", "action", "add_score", points=1),
        node("nudge", "action", "add_score", points=2),
    ]
    edges = [link("start", "paid"), link("paid", "thanks", "yes"), link("paid", "nudge", "no")]
    return scenario(nodes, edges, **settings)


def issues_of(raw: dict[str, Any]) -> list[Issue]:
    _, issues = check_draft(raw)
    return [issue for issue in issues if issue.node == "paid"]


def config(raw: dict[str, Any]) -> WaitForConditionConfig:
    return WaitForConditionConfig.model_validate(raw)


def test_a_complete_wait_is_valid_and_has_yes_and_no() -> None:
    document, issues = check_draft(waiting_for(PAID))
    assert document is not None
    assert not [issue for issue in issues if issue.is_error]
    assert document.blocks_by_id()["paid"].ports() == ("yes", "no")


def test_the_condition_and_the_time_limit_are_both_required() -> None:
    fields = {(i.field, i.severity) for i in issues_of(waiting_for(None, None))}
    assert ("config.if", "error") in fields
    assert ("config.timeout_seconds", "error") in fields
    (limit,) = [i for i in issues_of(waiting_for(PAID, 0)) if i.field == "config.timeout_seconds"]
    assert "longer than zero" in limit.message


def test_a_condition_that_cannot_be_evaluated_is_refused() -> None:
    huge = {"attribute": "city", "op": "in", "value": [str(n) for n in range(5000)]}
    assert any(i.field == "config.if" and i.is_error for i in issues_of(waiting_for(huge)))


def test_the_summary_says_what_it_waits_for_and_for_how_long() -> None:
    assert config({"if": PAID, "timeout_seconds": TWO_WEEKS}).summary() == (
        "Wait until plan = 'paid', at most 2 weeks"
    )
    assert config({"timeout_seconds": 3600}).summary() == (
        "Wait until … (no condition set), at most 1 hour"
    )
    with speaking("fr"):
        assert config({"if": PAID, "timeout_seconds": TWO_WEEKS}).summary() == (
            "Attendre que plan = « paid », au plus 2 semaines"
        )


def test_it_wakes_on_the_changes_its_condition_reads_and_no_others() -> None:
    condition = parse_condition(
        {"all": [PAID, {"attribute": "score", "op": "gte", "value": 10},
                 {"list": "customers", "op": "member"}, {"consent": "email", "op": "granted"},
                 {"event": "purchase", "op": "count_gte", "value": 1}]}
    )  # fmt: skip
    keys = wakes_on(condition)
    assert keys == {
        ("attribute_changed", "plan"), ("score_changed", None), ("list_added", "customers"),
        ("list_removed", "customers"), ("consent_changed", "email"), ("email_unsubscribed", None),
        ("purchase", None),
    }  # fmt: skip
    assert wakes(keys, "attribute_changed", {"attribute": "plan", "to": "paid"})
    assert not wakes(keys, "attribute_changed", {"attribute": "city", "to": "Lyon"})
    assert wakes(keys, "list_removed", {"list": "customers"})
    assert not wakes(keys, "list_added", {"list": "newsletter"})
    assert wakes(keys, "purchase", {"total": 12})
    assert wakes(keys, "consent_changed", {"channel": "email", "to": True})
    assert not wakes(keys, "consent_changed", {"channel": "sms", "to": True})


def test_the_plan_hears_the_events_that_wake_its_waits() -> None:
    document, _ = check_draft(waiting_for({"any": [PAID, {"list": "vip", "op": "member"}]}))
    assert document is not None
    plan = compile_document(document)
    assert plan.waits_for_changes == {
        "attribute_changed": ["paid"], "list_added": ["paid"], "list_removed": ["paid"],
    }  # fmt: skip
    assert {"attribute_changed", "list_added", "list_removed"} <= plan.events_heard()


def test_the_condition_is_stored_as_a_phrase_read_in_french() -> None:
    phrase = condition_phrase(
        parse_condition({"all": [PAID, {"list": "vip", "op": "member"},
                                 {"event": "purchase", "op": "count_gte", "value": 2, "within_days": 7}]})
    )  # fmt: skip
    assert str(phrase) == (
        "plan = 'paid' and in list 'vip' and purchase happened at least 2 times in the last 7 days"
    )
    with speaking("fr"):
        assert str(phrase) == (
            "plan = 'paid' et dans la liste 'vip' et purchase s’est produit au moins 2 fois "
            "au cours des 7 derniers jours"
        )


def lint_codes(raw: dict[str, Any]) -> set[IssueCode]:
    return {i.code for i in issues_of(raw) if i.severity == "warning"}


def test_a_condition_that_can_never_come_true_is_a_warning() -> None:
    assert IssueCode.condition_never_true in lint_codes(waiting_for({"any": []}))
    assert IssueCode.condition_always_true in lint_codes(waiting_for({"all": []}))
    assert not lint_codes(waiting_for(PAID)) & {
        IssueCode.condition_never_true, IssueCode.condition_always_true,
    }  # fmt: skip


def test_waiting_for_the_goal_itself_is_a_wait_nobody_leaves_by_yes() -> None:
    (issue,) = [
        i
        for i in issues_of(waiting_for(PAID, exit_when=PAID))
        if i.code == IssueCode.wait_never_left
    ]
    assert "also the scenario's goal" in issue.message
    other_goal = waiting_for(PAID, exit_when={"attribute": "plan", "op": "eq", "value": "gold"})
    assert IssueCode.wait_never_left not in lint_codes(other_goal)


def test_an_unwired_output_says_who_ends_there() -> None:
    raw = waiting_for(PAID)
    raw["edges"] = [edge for edge in raw["edges"] if edge.get("port") != "no"]
    (issue,) = [i for i in issues_of(raw) if i.code == IssueCode.port_unwired]
    assert "still not true at the time limit" in issue.message
