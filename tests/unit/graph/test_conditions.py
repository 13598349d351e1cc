"""Condition language v1: what parses, what is refused and why, and how it reads."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from app.graph import (
    BUILTIN_ATTRIBUTES,
    AllCondition,
    AttributeCondition,
    ConsentCondition,
    EventCondition,
    ListCondition,
    NotCondition,
    describe_condition,
    parse_condition,
)


@pytest.mark.parametrize(
    ("raw", "model"),
    [
        ({"all": [{"attribute": "score", "op": "gte", "value": 2}]}, AllCondition),
        ({"not": {"list": "newsletter", "op": "member"}}, NotCondition),
        ({"attribute": "orders_count", "op": "gte", "value": 2}, AttributeCondition),
        ({"attribute": "email", "op": "exists"}, AttributeCondition),
        ({"attribute": "country", "op": "in", "value": ["FR", "BE"]}, AttributeCondition),
        ({"attribute": "created_at", "op": "before", "value": "2024-12-31T09:00:00+01:00"},
         AttributeCondition),
        ({"event": "email_opened", "op": "count_gte", "value": 1, "within_days": 120,
          "where": {"attribute": "campaign", "op": "eq", "value": "spring"}}, EventCondition),
        ({"event": "purchase", "op": "none"}, EventCondition),
        ({"list": "newsletter", "op": "not_member"}, ListCondition),
        ({"consent": "sms", "op": "granted"}, ConsentCondition),
    ],
)  # fmt: skip
def test_every_form_of_the_language_parses_and_dumps_back_to_the_same_json(
    raw: dict[str, Any], model: type
) -> None:
    condition = parse_condition(raw)

    assert type(condition) is model
    assert parse_condition(condition.model_dump(mode="json")) == condition
    assert condition.model_dump(mode="json", exclude_none=True) == raw


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ({"attribute": "country", "op": "in", "value": "FR"},
         "'is one of' needs a list of at least one value"),
        ({"attribute": "country", "op": "in", "value": []},
         "'is one of' needs a list of at least one value"),
        ({"attribute": "score", "op": "gt", "value": "5"}, "'>' needs a number"),
        ({"attribute": "score", "op": "gt", "value": True}, "'>' needs a number"),
        ({"attribute": "score", "op": "gt"}, "'>' needs a number"),
        ({"attribute": "email", "op": "contains", "value": ""}, "'contains' needs some text"),
        ({"attribute": "email", "op": "starts_with", "value": 3}, "'starts with' needs some text"),
        ({"attribute": "birthday", "op": "before", "value": "2024-13-01"},
         "'is before' needs a date like 2024-12-31 or 2024-12-31T09:00"),
        ({"attribute": "birthday", "op": "after", "value": "yesterday"},
         "'is after' needs a date like 2024-12-31 or 2024-12-31T09:00"),
        ({"attribute": "created_at", "op": "within_last_days", "value": -1},
         "'is within the last' needs a whole number of days, 0 to 36500"),
        ({"attribute": "created_at", "op": "older_than_days", "value": 1.5},
         "'is more than' needs a whole number of days, 0 to 36500"),
        ({"attribute": "email", "op": "exists", "value": "x"}, "'is set' takes no value"),
        ({"attribute": "plan", "op": "eq"}, "'=' needs a value; use 'is set' / 'is not set'"),
        ({"attribute": "plan", "op": "ne", "value": ""}, "'≠' needs a value"),
        ({"attribute": "plan", "op": "eq", "value": ["pro"]},
         "'=' takes a single value, not a list"),
        ({"attribute": "plan", "op": "is", "value": "pro"}, "Input should be 'eq'"),
        ({"attribute": "", "op": "exists"}, "at least 1 character"),
        ({"event": "purchase", "op": "none", "value": 1}, "'none' takes no value"),
        ({"event": "purchase", "op": "count_gte"}, "say how many times"),
        ({"event": "purchase", "op": "count_lt", "value": -1}, "greater than or equal to 0"),
        ({"event": "purchase", "op": "count_gte", "value": 1, "within_days": 0},
         "greater than or equal to 1"),
        ({"event": "purchase", "op": "none", "where": {"consent": "email", "op": "granted"}},
         "a filter on event properties can only compare properties"),
        ({"list": "vip", "op": "in"}, "Input should be 'member' or 'not_member'"),
        ({"consent": "fax", "op": "granted"}, "Input should be 'email' or 'sms'"),
        ({"attribute": "plan", "op": "exists", "colour": "red"}, "Extra inputs are not permitted"),
        ({"country": "FR"}, "a condition must be an object with one of"),
        ("plan = pro", "a condition must be an object with one of"),
    ],
)  # fmt: skip
def test_malformed_conditions_are_refused_with_a_reason(raw: Any, reason: str) -> None:
    with pytest.raises(ValidationError) as refused:
        parse_condition(raw)

    assert reason in str(refused.value)


def test_builtin_attributes_are_the_contact_columns() -> None:
    assert {
        "email", "phone", "first_name", "last_name", "birthday", "timezone", "score", "created_at",
    } == BUILTIN_ATTRIBUTES  # fmt: skip


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ({"attribute": "orders_count", "op": "eq", "value": 1}, "orders count = 1"),
        ({"attribute": "plan", "op": "ne", "value": "free"}, "plan ≠ 'free'"),
        ({"attribute": "score", "op": "lte", "value": 9.5}, "score ≤ 9.5"),
        ({"attribute": "email", "op": "contains", "value": "@gmail"}, "email contains '@gmail'"),
        ({"attribute": "phone", "op": "not_exists"}, "phone is not set"),
        ({"attribute": "vip", "op": "eq", "value": True}, "vip = true"),
        ({"attribute": "created_at", "op": "within_last_days", "value": 7},
         "created at is within the last 7 days"),
        ({"attribute": "created_at", "op": "older_than_days", "value": 1},
         "created at is more than 1 day ago"),
        ({"attribute": "birthday", "op": "after", "value": "2000-01-01"},
         "birthday is after 2000-01-01"),
        ({"event": "email_opened", "op": "count_gte", "value": 1, "within_days": 120},
         "email_opened happened at least 1 time in the last 120 days"),
        ({"event": "purchase", "op": "count_lt", "value": 3},
         "purchase happened fewer than 3 times"),
        ({"event": "purchase", "op": "none", "where": {"attribute": "amount", "op": "gt",
                                                       "value": 100}},
         "purchase never happened where amount > 100"),
        ({"consent": "email", "op": "not_granted"}, "email consent not granted"),
        ({"all": []}, "always"),
        ({"any": []}, "never"),
        ({"not": {"all": [{"list": "a", "op": "member"}, {"list": "b", "op": "member"}]}},
         "not (in list 'a' and in list 'b')"),
    ],
)  # fmt: skip
def test_conditions_read_as_plain_words(raw: dict[str, Any], words: str) -> None:
    assert describe_condition(parse_condition(raw)) == words
