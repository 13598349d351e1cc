"""Properties of the evaluator and the compiler over random conditions, contacts and graphs."""

from __future__ import annotations

import json
import random
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from app.graph import (
    AllCondition,
    AnyCondition,
    Condition,
    ContactFacts,
    Plan,
    check_draft,
    compile_document,
    evaluate,
    explain,
    explain_many,
    has_errors,
    parse_condition,
)
from tests.unit.graph.strategies import (
    ATTRIBUTE_KEYS,
    KNOWN,
    NOW,
    attribute_values,
    condition_json,
    conditions,
    contact_facts,
    scalars,
    valid_documents,
)


@given(conditions(), contact_facts())
def test_not_inverts(condition: Condition, facts: ContactFacts) -> None:
    negated = parse_condition({"not": condition.model_dump(mode="json")})

    assert evaluate(negated, facts, NOW) is not evaluate(condition, facts, NOW)


@given(st.lists(conditions(), max_size=4), contact_facts())
def test_all_and_any_combine_their_children_like_python(
    children: list[Condition], facts: ContactFacts
) -> None:
    results = [evaluate(child, facts, NOW) for child in children]

    assert evaluate(AllCondition.model_validate({"all": children}), facts, NOW) is all(results)
    assert evaluate(AnyCondition.model_validate({"any": children}), facts, NOW) is any(results)


@given(contact_facts())
def test_empty_all_holds_and_empty_any_does_not(facts: ContactFacts) -> None:
    assert evaluate(parse_condition({"all": []}), facts, NOW) is True
    assert evaluate(parse_condition({"any": []}), facts, NOW) is False


@given(conditions(), contact_facts())
def test_the_explanation_agrees_with_the_result_and_is_json(
    condition: Condition, facts: ContactFacts
) -> None:
    explanation = explain(condition, facts, NOW)

    assert explanation.result is evaluate(condition, facts, NOW)
    assert explanation.text.endswith("→ yes" if explanation.result else "→ no")
    assert type(explanation).model_validate_json(explanation.model_dump_json()) == explanation


@given(condition_json())
def test_conditions_dump_to_json_that_reads_back_equal(raw: dict[str, Any]) -> None:
    condition = parse_condition(raw)
    dumped = json.loads(json.dumps(condition.model_dump(mode="json")))

    assert parse_condition(dumped) == condition


@given(st.sampled_from(ATTRIBUTE_KEYS), scalars.filter(lambda v: v != ""), attribute_values)
def test_ne_is_not_eq_for_present_values_and_false_for_missing_ones(
    key: str, value: Any, seen: Any
) -> None:
    facts = ContactFacts(attributes={key: seen})
    eq = evaluate(parse_condition({"attribute": key, "op": "eq", "value": value}), facts, NOW)
    ne = evaluate(parse_condition({"attribute": key, "op": "ne", "value": value}), facts, NOW)
    present = evaluate(parse_condition({"attribute": key, "op": "exists"}), facts, NOW)
    in_one = evaluate(parse_condition({"attribute": key, "op": "in", "value": [value]}), facts, NOW)

    assert ne is (present and not eq)
    assert in_one is eq
    assert not (eq and not present)


def attribute_holds(seen: Any, op: str, value: Any) -> bool:
    condition = parse_condition({"attribute": "a", "op": op, "value": value})
    return evaluate(condition, ContactFacts(attributes={"a": seen}), NOW)


@given(attribute_values, st.integers(min_value=0, max_value=120))
def test_a_moment_is_never_both_recent_and_old(seen: Any, days: int) -> None:
    recent = attribute_holds(seen, "within_last_days", days)
    old = attribute_holds(seen, "older_than_days", days)

    assert not (recent and old)


@given(attribute_values, st.sampled_from(["2025-06-01", "2025-06-01T12:00:00Z"]))
def test_a_moment_is_never_both_before_and_after(seen: Any, bound: str) -> None:
    assert not (attribute_holds(seen, "before", bound) and attribute_holds(seen, "after", bound))


@given(attribute_values, st.one_of(st.integers(-50, 50), st.floats(-50, 50)))
def test_number_comparisons_are_consistent(seen: Any, bound: float) -> None:
    gt, lte = attribute_holds(seen, "gt", bound), attribute_holds(seen, "lte", bound)
    lt, gte = attribute_holds(seen, "lt", bound), attribute_holds(seen, "gte", bound)
    is_number = attribute_holds(seen, "gte", -1e9)

    assert (gt or lte) is is_number
    assert not (gt and lte)
    assert (lt or gte) is is_number
    assert not (lt and gte)


@given(st.sampled_from(["purchase", "email_opened"]), st.integers(0, 4), contact_facts())
def test_event_count_operators_are_complements(event: str, count: int, facts: ContactFacts) -> None:
    def holds(op: str, value: int | None = None) -> bool:
        condition: dict[str, Any] = {"event": event, "op": op, "within_days": 30}
        if value is not None:
            condition["value"] = value
        return evaluate(parse_condition(condition), facts, NOW)

    assert holds("count_lt", count) is not holds("count_gte", count)
    assert holds("none") is holds("count_lt", 1)


@given(valid_documents())
def test_generated_scenarios_validate_and_compile_to_a_stable_plan(raw: dict[str, Any]) -> None:
    document, issues = check_draft(raw, KNOWN)
    assert document is not None
    assert not has_errors(issues), issues

    plan = compile_document(document, KNOWN)
    shuffled = dict(raw, nodes=random.sample(raw["nodes"], len(raw["nodes"])))
    shuffled_document, _ = check_draft(shuffled, KNOWN)
    assert shuffled_document is not None

    assert Plan.model_validate(json.loads(plan.model_dump_json())) == plan
    assert compile_document(shuffled_document, KNOWN) == plan
    assert set(plan.blocks) == {block["id"] for block in raw["nodes"]}


# Contacts drawn from a small pool, so that many look alike and share an explanation.
alike_contacts = st.lists(contact_facts(), min_size=1, max_size=3).flatmap(
    lambda pool: st.lists(st.sampled_from(pool), min_size=1, max_size=12)
)


@given(conditions(), alike_contacts)
def test_explaining_many_contacts_at_once_agrees_with_one_at_a_time(
    condition: Condition, many: list[ContactFacts]
) -> None:
    facts = dict(enumerate(many))
    explained = explain_many(condition, facts, NOW)
    assert explained == {key: explain(condition, one, NOW) for key, one in facts.items()}
