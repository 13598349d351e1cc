"""Conditions that decide nothing: true for every contact, or for none, whatever they did.

Read from the condition alone, under the value rules of ``evaluate.py``: ``all: []`` holds and
``any: []`` does not; every attribute test but "is not set" needs the attribute to be set, so
``orders_count ≥ 5 and orders_count < 2`` is never true, but ``≥ 5 or < 5`` is not always true
(a contact without the attribute takes neither). Only what can be proved is said: None means
the condition may go either way. Pure: no database, no contact.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from itertools import combinations
from typing import Literal

from app.graph.coercion import as_instant, as_number, fold
from app.graph.conditions import (
    NUMBER_OPS,
    PRESENCE_OPS,
    AllCondition,
    AnyCondition,
    AttributeCondition,
    Condition,
    ConsentCondition,
    EventCondition,
    ListCondition,
    NotCondition,
    describe_condition,
)
from app.graph.issues import Issue, IssueCode, about_block
from app.graph.wording import quote
from app.i18n.text import _

Verdict = Literal["always", "never"]


@dataclass(frozen=True)
class Sense:
    """What the condition always comes to, and why, in words (a clause: no capital, no stop)."""

    verdict: Verdict
    reason: str


def sense_of(condition: Condition) -> Sense | None:
    """``always`` / ``never`` with the reason when the condition cannot go both ways."""
    if isinstance(condition, AllCondition):
        return _all_sense(condition)
    if isinstance(condition, AnyCondition):
        return _any_sense(condition)
    if isinstance(condition, NotCondition):
        inner = sense_of(condition.inner)
        if inner is None:
            return None
        flipped: Verdict = "never" if inner.verdict == "always" else "always"
        reason = _("%(reason)s, and the condition asks for the opposite") % {"reason": inner.reason}
        return Sense(flipped, reason)
    if isinstance(condition, EventCondition) and condition.op != "none" and condition.value == 0:
        rule = quote(describe_condition(condition))
        if condition.op == "count_gte":
            return Sense("always", _("%(rule)s is true for everyone") % {"rule": rule})
        return Sense("never", _("%(rule)s is true for no one") % {"rule": rule})
    return None


def _all_sense(condition: AllCondition) -> Sense | None:
    if not condition.conditions:
        return Sense("always", _("its group of rules that must all hold is empty"))
    senses = [sense_of(child) for child in condition.conditions]
    never = next((s for s in senses if s is not None and s.verdict == "never"), None)
    if never is not None:
        return never
    leaves = list(_flattened(condition, AllCondition))
    for first, second in combinations(leaves, 2):
        if _contradict(first, second) or _contradict(second, first):
            return Sense("never", _both(first, second))
    bounds = _impossible_range(leaves)
    if bounds is not None:
        return Sense("never", _both(*bounds))
    if all(s is not None and s.verdict == "always" for s in senses):
        return senses[0]
    return None


def _any_sense(condition: AnyCondition) -> Sense | None:
    if not condition.conditions:
        return Sense("never", _("its group of rules of which one must hold is empty"))
    senses = [sense_of(child) for child in condition.conditions]
    always = next((s for s in senses if s is not None and s.verdict == "always"), None)
    if always is not None:
        return always
    leaves = list(_flattened(condition, AnyCondition))
    for first, second in combinations(leaves, 2):
        if _cover(first, second) or _cover(second, first):
            reason = _("either %(first)s or %(second)s is true for every contact") % {
                "first": quote(describe_condition(first)),
                "second": quote(describe_condition(second)),
            }
            return Sense("always", reason)
    if all(s is not None and s.verdict == "never" for s in senses):
        return senses[0]
    return None


def _flattened(
    condition: AllCondition | AnyCondition, kind: type[AllCondition] | type[AnyCondition]
) -> Iterator[Condition]:
    """The rules of a group and of the groups of the same kind inside it (``a and (b and c)``
    is ``a and b and c``)."""
    for child in condition.conditions:
        if isinstance(child, kind):
            yield from _flattened(child, kind)
        else:
            yield child


def _both(first: Condition, second: Condition) -> str:
    return _("%(first)s and %(second)s cannot both be true") % {
        "first": quote(describe_condition(first)),
        "second": quote(describe_condition(second)),
    }


def _contradict(a: Condition, b: Condition) -> bool:
    """True when no contact can meet both ``a`` and ``b`` (numeric ranges aside)."""
    if isinstance(a, AttributeCondition) and isinstance(b, AttributeCondition):
        if a.attribute != b.attribute:
            return False
        if a.op == "not_exists":
            # Every other test needs a value (``ne`` included: a missing value is not "≠ 1").
            return b.op != "not_exists"
        if a.op == "eq" and b.op == "eq":
            return _different_values(a.value, b.value)
        if a.op == "eq" and b.op == "ne":
            return _same_value(a.value, b.value)
        return False
    if isinstance(a, ListCondition) and isinstance(b, ListCondition):
        return a.list_key == b.list_key and a.op != b.op
    if isinstance(a, ConsentCondition) and isinstance(b, ConsentCondition):
        return a.channel == b.channel and a.op != b.op
    if isinstance(a, EventCondition) and isinstance(b, EventCondition) and _same_count(a, b):
        at_least = _at_least(a)
        if at_least is None:
            return False
        if b.op == "none":
            return at_least >= 1
        return b.op == "count_lt" and (b.value or 0) <= at_least
    return False


def _cover(a: Condition, b: Condition) -> bool:
    """True when every contact meets ``a`` or ``b``."""
    if isinstance(a, AttributeCondition) and isinstance(b, AttributeCondition):
        return a.attribute == b.attribute and {a.op, b.op} == PRESENCE_OPS
    if isinstance(a, ListCondition) and isinstance(b, ListCondition):
        return a.list_key == b.list_key and a.op != b.op
    if isinstance(a, ConsentCondition) and isinstance(b, ConsentCondition):
        return a.channel == b.channel and a.op != b.op
    if isinstance(a, EventCondition) and isinstance(b, EventCondition) and _same_count(a, b):
        at_least = _at_least(a)
        if at_least is None:
            return False
        below = 1 if b.op == "none" else (b.value or 0) if b.op == "count_lt" else None
        return below is not None and below >= at_least
    return False


def _same_count(a: EventCondition, b: EventCondition) -> bool:
    """Both count the same events: same name, window and filter."""
    return (
        a.event == b.event
        and a.within_days == b.within_days
        and (a.where is None) == (b.where is None)
        and (a.where is None or b.where is None or a.where.model_dump() == b.where.model_dump())
    )


def _at_least(condition: EventCondition) -> int | None:
    return condition.value or 0 if condition.op == "count_gte" else None


def _plain(value: object) -> tuple[str, object] | None:
    """A value in the one form equality compares it in, when that form is unambiguous: a
    number, a boolean, or text that is neither numeric nor a date (those compare in ways the
    condition alone cannot settle)."""
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, int | float):
        number = as_number(value)
        return None if number is None else ("number", number)
    if isinstance(value, str) and as_number(value) is None and as_instant(value) is None:
        return ("text", fold(value))
    return None


def _different_values(a: object, b: object) -> bool:
    first, second = _plain(a), _plain(b)
    return first is not None and second is not None and first[0] == second[0] and first != second


def _same_value(a: object, b: object) -> bool:
    first, second = _plain(a), _plain(b)
    return first is not None and first == second


def _impossible_range(leaves: list[Condition]) -> tuple[Condition, Condition] | None:
    """The two number tests on one attribute that leave no number between them."""
    tests = [
        leaf
        for leaf in leaves
        if isinstance(leaf, AttributeCondition)
        and (leaf.op in NUMBER_OPS or leaf.op == "eq")
        and not isinstance(leaf.value, bool)
        and isinstance(leaf.value, int | float)
        and as_number(leaf.value) is not None
    ]
    for low in tests:
        for high in tests:
            if low is high or low.attribute != high.attribute:
                continue
            if low.op not in ("gt", "gte", "eq") or high.op not in ("lt", "lte", "eq"):
                continue
            bottom, top = as_number(low.value), as_number(high.value)
            if bottom is None or top is None:
                continue
            open_end = low.op == "gt" or high.op == "lt"
            if bottom > top or (bottom == top and open_end):
                return low, high
    return None


def sense_warning(block_id: str, sense: Sense, never: str, always: str, title: str | None) -> Issue:
    """The linter's warning on a block whose condition cannot go both ways; ``never`` and
    ``always`` say what that does to this kind of block (each with ``%(reason)s``)."""
    if sense.verdict == "never":
        code, problem = IssueCode.condition_never_true, never
    else:
        code, problem = IssueCode.condition_always_true, always
    message = about_block(block_id, problem % {"reason": sense.reason}, title)
    return Issue(node=block_id, code=code, message=message, severity="warning", field="config.if")
