"""The in-memory evaluator: the semantics the bulk SQL evaluator must agree with."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from app.graph import (
    ContactFacts,
    EventFact,
    evaluate,
    explain,
    explain_many,
    matches_properties,
    parse_condition,
    render_explanation,
)

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def holds(
    condition: dict[str, Any], facts: ContactFacts | None = None, now: datetime = NOW
) -> bool:
    return evaluate(parse_condition(condition), facts or ContactFacts(), now)


def attribute_holds(op: str, value: Any, seen: Any, now: datetime = NOW) -> bool:
    condition: dict[str, Any] = {"attribute": "a", "op": op}
    if value is not None:
        condition["value"] = value
    return holds(condition, ContactFacts(attributes={"a": seen}), now)


VALID_VALUE = {
    "eq": 1, "ne": 1, "gt": 1, "gte": 1, "lt": 1, "lte": 1, "contains": "x", "starts_with": "x",
    "in": [1, "x"], "before": "2030-01-01", "after": "2000-01-01", "within_last_days": 9999,
    "older_than_days": 0,
}  # fmt: skip


class TestMissingValues:
    @pytest.mark.parametrize("op", sorted(VALID_VALUE))
    @pytest.mark.parametrize("seen", [None, ""])
    def test_every_comparison_is_false_on_a_missing_value_even_ne(self, op: str, seen: Any) -> None:
        assert attribute_holds(op, VALID_VALUE[op], seen) is False

    def test_an_absent_key_is_missing(self) -> None:
        assert holds({"attribute": "plan", "op": "not_exists"})
        assert not holds({"attribute": "plan", "op": "exists"})
        assert not holds({"attribute": "plan", "op": "ne", "value": "pro"})

    @pytest.mark.parametrize(
        ("seen", "present"),
        [(None, False), ("", False), (" ", True), (0, True), (False, True), ([], True), ({}, True)],
    )
    def test_exists_and_not_exists(self, seen: Any, present: bool) -> None:
        assert attribute_holds("exists", None, seen) is present
        assert attribute_holds("not_exists", None, seen) is not present

    def test_not_eq_is_the_way_to_say_different_or_empty(self) -> None:
        assert holds({"not": {"attribute": "plan", "op": "eq", "value": "pro"}})


class TestEquality:
    @pytest.mark.parametrize(
        ("expected", "seen", "equal"),
        [
            (1, 1, True), (1, 1.0, True), (1, "1", True), (1, "1.0", True), (1.5, "1.50", True),
            (-2, "-2", True), (1, " 1", False), (1, "1e0", False), (1, "+1", False),
            (1, "one", False), (1, True, False), (0, False, False), (1, date(2024, 1, 1), False),
            ("pro", "pro", True), ("pro", "PRO", True), ("élodie", "ÉLODIE", True),
            ("pro", "pro ", False), ("75001", 75001, True), ("75001", 75001.0, True),
            ("1.0", "1", False), ("1.0", 1, True), ("1990-05-01", date(1990, 5, 1), True),
            ("1990-05-01", datetime(1990, 5, 1, tzinfo=UTC), False), ("true", True, False),
            (True, True, True), (True, "true", False), (False, 0, False), (True, 1, False),
            ("a", ["a"], False), (1, {"a": 1}, False),
        ],
    )  # fmt: skip
    def test_eq_compares_by_the_type_of_the_conditions_value(
        self, expected: Any, seen: Any, equal: bool
    ) -> None:
        assert attribute_holds("eq", expected, seen) is equal
        assert attribute_holds("ne", expected, seen) is not equal  # present, so ne = not eq

    def test_in_is_eq_to_any_listed_value(self) -> None:
        assert attribute_holds("in", ["FR", "BE"], "be")
        assert attribute_holds("in", ["FR", 3], "3")
        assert not attribute_holds("in", ["FR", "BE"], "CH")


class TestNumbers:
    @pytest.mark.parametrize(
        ("op", "bound", "seen", "result"),
        [
            ("gt", 2, 3, True), ("gt", 2, 2, False), ("gte", 2, 2, True), ("lt", 2, 1.5, True),
            ("lte", 2, "2", True), ("lt", 2, "-3.5", True), ("gt", 0.5, "1", True),
            ("gt", 2, "3 items", False), ("gt", 0, True, False), ("lt", 10, "", False),
            ("gt", 0, date(2024, 1, 1), False), ("gte", 0, [1], False),
        ],
    )  # fmt: skip
    def test_comparisons_read_numbers_and_numeric_text(
        self, op: str, bound: float, seen: Any, result: bool
    ) -> None:
        assert attribute_holds(op, bound, seen) is result


class TestText:
    @pytest.mark.parametrize(
        ("op", "value", "seen", "result"),
        [
            ("contains", "gmail", "Jo@GMail.com", True), ("contains", "É", "café", True),
            ("contains", "x", "abc", False), ("starts_with", "jo", "John", True),
            ("starts_with", "ohn", "John", False), ("starts_with", "1990", date(1990, 5, 1), True),
            ("contains", "75", 75001, False), ("starts_with", "t", True, False),
        ],
    )  # fmt: skip
    def test_text_operators_are_case_insensitive_and_only_see_text(
        self, op: str, value: str, seen: Any, result: bool
    ) -> None:
        assert attribute_holds(op, value, seen) is result


class TestDates:
    @pytest.mark.parametrize(
        ("op", "value", "seen", "result"),
        [
            ("before", "2024-01-01", "2023-12-31", True),
            ("before", "2024-01-01", "2024-01-01", False),
            ("before", "2024-01-01", datetime(2023, 12, 31, 23, 59, tzinfo=UTC), True),
            ("after", "2024-01-01", "2024-01-01T10:00:00Z", False),  # same day is not after it
            ("after", "2024-01-01", "2024-01-02", True),
            ("after", "2024-01-01", date(2024, 1, 2), True),
            ("after", "2024-01-01T10:00", "2024-01-01T10:00:01", True),
            ("after", "2024-01-01T10:00", "2024-01-01T10:00", False),
            ("before", "2024-01-01T10:00:00+02:00", "2024-01-01T07:30Z", True),  # 08:00 UTC
            ("before", "2024-01-01T10:00:00+02:00", "2024-01-01T08:30Z", False),
            ("before", "2024-01-01T10:00:00+02:00", "2024-01-01 07:59:00", True),  # naive: UTC
            ("after", "2024-01-01", datetime(2024, 1, 2, 0, 30, tzinfo=UTC), True),
            ("before", "2024-01-01", datetime(2023, 12, 31, 23, 0), True),  # naive datetime
            ("before", "2024-01-01", "2023-02-30", False),  # not a real day
            ("before", "2024-01-01", "31/12/2023", False),
            ("before", "2024-01-01", 1_700_000_000, False),  # timestamps are not dates
        ],
    )
    def test_before_and_after(self, op: str, value: str, seen: Any, result: bool) -> None:
        assert attribute_holds(op, value, seen) is result

    @pytest.mark.parametrize(
        ("op", "value", "seen", "result"),
        [
            ("within_last_days", 7, NOW - timedelta(days=7), True),  # the edge is inside
            ("within_last_days", 7, NOW - timedelta(days=7, seconds=1), False),
            ("within_last_days", 7, NOW, True),
            ("within_last_days", 7, NOW + timedelta(seconds=1), False),  # future never
            ("within_last_days", 1, "2026-01-05", True),  # a day is its midnight UTC
            ("within_last_days", 1, "2026-01-04", False),
            ("within_last_days", 0, NOW, True),
            ("older_than_days", 30, NOW - timedelta(days=30, seconds=1), True),
            ("older_than_days", 30, NOW - timedelta(days=30), False),
            ("older_than_days", 0, NOW - timedelta(seconds=1), True),
            ("older_than_days", 0, NOW + timedelta(days=3), False),
            ("older_than_days", 365, date(1990, 5, 1), True),
            ("older_than_days", 1, "not a date", False),
        ],
    )
    def test_day_windows_are_measured_from_the_injected_now(
        self, op: str, value: int, seen: Any, result: bool
    ) -> None:
        assert attribute_holds(op, value, seen) is result

    def test_the_ends_of_the_calendar_do_not_break_evaluation(self) -> None:
        assert not attribute_holds("after", "9999-12-31", date(9999, 12, 31))
        assert attribute_holds("before", "0001-01-02", "0001-01-01")
        assert not attribute_holds("before", "2024-01-01", "0001-01-01T00:00+01:00")
        year_50 = NOW.replace(year=50)  # 36500 days earlier is before the calendar starts
        assert not attribute_holds("older_than_days", 36_500, date(1, 1, 1), now=year_50)
        assert attribute_holds("within_last_days", 36_500, date(1, 1, 1), now=year_50)
        early = ContactFacts(events=[EventFact("purchase", datetime(1, 1, 1, tzinfo=UTC))])
        condition = {"event": "purchase", "op": "count_gte", "value": 1, "within_days": 36_500}
        assert holds(condition, early, now=year_50)

    def test_moving_the_clock_moves_the_window(self) -> None:
        signed_up = NOW - timedelta(days=3)

        assert attribute_holds("within_last_days", 7, signed_up, now=NOW)
        assert not attribute_holds("within_last_days", 7, signed_up, now=NOW + timedelta(days=5))

    def test_now_must_be_timezone_aware(self) -> None:
        with pytest.raises(ValueError, match="timezone-aware"):
            attribute_holds("exists", None, 1, now=datetime(2026, 1, 5))


def purchase(days_ago: float, **properties: Any) -> EventFact:
    return EventFact("purchase", NOW - timedelta(days=days_ago), properties)


class TestEvents:
    facts = ContactFacts(
        events=[
            purchase(1, amount=120),
            purchase(10, amount="80"),
            purchase(40, amount=300),
            purchase(-1, amount=500),  # tomorrow: not yet happened
            EventFact("Purchase", NOW - timedelta(days=1), {"amount": 999}),  # another name
            EventFact("email_opened", NOW - timedelta(days=2)),
        ]
    )

    @pytest.mark.parametrize(
        ("condition", "result"),
        [
            ({"op": "count_gte", "value": 3}, True),  # all time, but not the future one
            ({"op": "count_gte", "value": 4}, False),
            ({"op": "count_gte", "value": 2, "within_days": 30}, True),
            ({"op": "count_gte", "value": 3, "within_days": 30}, False),
            ({"op": "count_lt", "value": 2, "within_days": 5}, True),
            ({"op": "count_gte", "value": 1, "within_days": 10}, True),  # the edge is inside
            ({"op": "count_gte", "value": 2, "where": {"attribute": "amount", "op": "gt",
                                                       "value": 100}}, True),
            ({"op": "count_gte", "value": 2, "within_days": 30,
              "where": {"attribute": "amount", "op": "gte", "value": 80}}, True),
            ({"op": "count_lt", "value": 1, "within_days": 30,
              "where": {"attribute": "amount", "op": "gt", "value": 200}}, True),
            ({"op": "none", "within_days": 30,
              "where": {"attribute": "amount", "op": "gt", "value": 200}}, True),
            ({"op": "none"}, False),
            ({"op": "count_gte", "value": 0, "within_days": 1,
              "where": {"attribute": "coupon", "op": "exists"}}, True),
        ],
    )  # fmt: skip
    def test_counts_events_by_name_in_the_window_that_match_the_filter(
        self, condition: dict[str, Any], result: bool
    ) -> None:
        assert holds({"event": "purchase", **condition}, self.facts) is result

    def test_a_contact_without_events_has_none(self) -> None:
        assert holds({"event": "purchase", "op": "none"})
        assert not holds({"event": "purchase", "op": "count_gte", "value": 1})

    def test_naive_event_times_are_utc(self) -> None:
        facts = ContactFacts(events=[EventFact("purchase", datetime(2026, 1, 5, 8, 59))])

        assert holds({"event": "purchase", "op": "count_gte", "value": 1}, facts)

    def test_trigger_filters_match_event_properties(self) -> None:
        where = parse_condition({"attribute": "currency", "op": "in", "value": ["EUR", "CHF"]})

        assert matches_properties(where, {"currency": "eur"}, NOW)
        assert not matches_properties(where, {"currency": "USD"}, NOW)
        assert not matches_properties(where, {}, NOW)


class TestListsAndConsent:
    facts = ContactFacts(lists=frozenset({"newsletter"}), consent={"email": True, "sms": False})

    @pytest.mark.parametrize(
        ("condition", "result"),
        [
            ({"list": "newsletter", "op": "member"}, True),
            ({"list": "Newsletter", "op": "member"}, False),  # keys are exact
            ({"list": "vip", "op": "not_member"}, True),
            ({"consent": "email", "op": "granted"}, True),
            ({"consent": "sms", "op": "granted"}, False),
            ({"consent": "sms", "op": "not_granted"}, True),
        ],
    )
    def test_membership_and_consent(self, condition: dict[str, Any], result: bool) -> None:
        assert holds(condition, self.facts) is result

    def test_absent_consent_is_not_granted(self) -> None:
        assert holds({"consent": "email", "op": "not_granted"}, ContactFacts())


class TestComposites:
    def test_empty_all_holds_and_empty_any_does_not(self) -> None:
        assert holds({"all": []})
        assert not holds({"any": []})
        assert not holds({"not": {"all": []}})

    def test_all_any_not(self) -> None:
        yes = {"consent": "email", "op": "not_granted"}
        no = {"consent": "email", "op": "granted"}

        assert holds({"all": [yes, yes]})
        assert not holds({"all": [yes, no]})
        assert holds({"any": [no, yes]})
        assert not holds({"any": [no, no]})
        assert holds({"not": no})


class TestExplanations:
    def test_an_attribute_explains_what_it_saw_and_needed(self) -> None:
        condition = parse_condition({"attribute": "orders_count", "op": "eq", "value": 1})

        explanation = explain(condition, ContactFacts(attributes={"orders_count": 0}), NOW)

        assert explanation.text == "orders count was 0, needs = 1 → no"
        assert explanation.condition == "orders count = 1"
        assert explanation.seen == 0
        assert explanation.result is False

    @pytest.mark.parametrize(
        ("condition", "text"),
        [
            ({"attribute": "first_name", "op": "exists"},
             "first name was not set, needs a value → no"),
            ({"attribute": "email", "op": "contains", "value": "gmail"},
             "email was 'jo@gmail.com', needs to contain 'gmail' → yes"),
            ({"attribute": "country", "op": "in", "value": ["FR", "BE"]},
             "country was 'CH', needs one of 'FR' or 'BE' → no"),
            ({"attribute": "created_at", "op": "within_last_days", "value": 7},
             "created at was 2026-01-01T00:00:00+00:00, needs within the last 7 days → yes"),
            ({"attribute": "birthday", "op": "before", "value": "2000-01-01"},
             "birthday was 1990-05-01, needs before 2000-01-01 → yes"),
            ({"event": "purchase", "op": "count_gte", "value": 2, "within_days": 30,
              "where": {"attribute": "amount", "op": "gt", "value": 50}},
             "purchase happened 1 time in the last 30 days where amount > 50,"
             " needs at least 2 → no"),
            ({"event": "purchase", "op": "none"}, "purchase happened 1 time, needs none → no"),
            ({"list": "vip", "op": "member"}, "contact is not in list 'vip', needs to be → no"),
            ({"list": "vip", "op": "not_member"},
             "contact is not in list 'vip', needs not to be → yes"),
            ({"consent": "sms", "op": "granted"},
             "sms consent was not granted, needs granted → no"),
            ({"all": []}, "0 of 0 conditions held, needs all → yes"),
        ],
    )  # fmt: skip
    def test_each_kind_of_condition_explains_itself(
        self, condition: dict[str, Any], text: str
    ) -> None:
        facts = ContactFacts(
            attributes={
                "email": "jo@gmail.com",
                "country": "CH",
                "created_at": datetime(2026, 1, 1, tzinfo=UTC),
                "birthday": date(1990, 5, 1),
            },
            events=[purchase(3, amount=70)],
        )

        assert explain(parse_condition(condition), facts, NOW).text == text

    def test_a_tree_explains_every_branch_and_renders_indented(self) -> None:
        condition = parse_condition(
            {
                "all": [
                    {"attribute": "orders_count", "op": "gte", "value": 1},
                    {"not": {"list": "vip", "op": "member"}},
                ]
            }
        )

        explanation = explain(condition, ContactFacts(attributes={"orders_count": "3"}), NOW)

        assert explanation.result is True
        assert explanation.seen == 2
        assert [child.result for child in explanation.children] == [True, True]
        assert render_explanation(explanation) == (
            "2 of 2 conditions held, needs all → yes\n"
            "  orders count was '3', needs ≥ 1 → yes\n"
            "  the condition inside was no, needs no → yes\n"
            "    contact is not in list 'vip', needs to be → no"
        )

    def test_explanations_are_json_for_the_trace(self) -> None:
        condition = parse_condition({"attribute": "birthday", "op": "exists"})
        explanation = explain(
            condition, ContactFacts(attributes={"birthday": date(1990, 5, 1)}), NOW
        )

        assert explanation.model_dump(mode="json")["seen"] == "1990-05-01"
        assert type(explanation).model_validate_json(explanation.model_dump_json()) == explanation


def test_contacts_share_an_explanation_only_when_the_values_read_are_the_same() -> None:
    condition = parse_condition({"attribute": "orders_count", "op": "eq", "value": 1})
    values = {1: 1, 2: 1.0, 3: "1", 4: True, 5: 1}
    facts = {key: ContactFacts(attributes={"orders_count": v}) for key, v in values.items()}

    explained = explain_many(condition, facts, NOW)

    assert explained == {key: explain(condition, f, NOW) for key, f in facts.items()}
    assert explained[1] is explained[5]
    assert len({id(e) for e in explained.values()}) == 4
