"""How large and how unusual a condition may be: checked whenever one is saved.

A condition that parses can still be impossible to evaluate: a ``not`` nested sixty deep, an
``is one of`` with thousands of values (SQLite and PostgreSQL cap the values one statement may
carry), a NUL in a name (PostgreSQL cannot store it), a number past 64 bits or a count past
PostgreSQL's integers. Segments, condition blocks, trigger filters and scenario goals all go
through :func:`condition_limit_problems` when they are saved, so what is stored can always be
evaluated in one SQL statement on both databases, and the in-memory evaluator agrees with it.

Stored conditions are not checked again when read: a published version must keep running, and
a segment that predates these limits is marked broken by the segment watcher instead.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.graph.conditions import (
    AllCondition,
    AnyCondition,
    AttributeCondition,
    Condition,
    EventCondition,
    ListCondition,
    NotCondition,
    op_words,
)
from app.graph.names import (
    attribute_name_rule,
    has_control_characters,
    has_surrogates,
    is_attribute_name,
)
from app.graph.wording import about, quote
from app.i18n.formatting import format_number
from app.i18n.text import _, pgettext

MAX_DEPTH = 10  # levels of groups (all / any / not / an event's filter) around a test
MAX_RULES = 200  # conditions of every kind, groups included, filters of events included
MAX_IN_VALUES = 500  # values of one "is one of"
MAX_VALUES = 2_000  # values of every "is one of" together: bounds the statement's parameters
MAX_TEXT = 2_000  # a text value, as long as the longest text attribute a contact may hold
MAX_NAME = 100  # event names (as the events API takes them), property names, list keys
MAX_COUNT = 1_000_000  # "happened at least N times": far beyond any real contact's history
INT64 = 2**63  # whole numbers are 64-bit integers in both databases


@dataclass(frozen=True)
class LimitProblem:
    """One limit a condition goes past; ``place`` says where, in words (``rule 2, value``).

    Both are in the speaker's language at the time the condition was checked."""

    place: str
    message: str

    def __str__(self) -> str:
        return about(self.place, self.message) if self.place else self.message


@dataclass
class _Tally:
    rules: int = 0
    values: int = 0
    too_deep: bool = False


def condition_limit_problems(
    condition: Condition, *, properties: bool = False
) -> list[LimitProblem]:
    """Every limit the condition goes past; empty when it can be saved.

    ``properties``: the condition filters an event's properties (a trigger's ``where``), whose
    names are free-form rather than contact attribute names.
    """
    problems: list[LimitProblem] = []
    tally = _Tally()
    # An explicit stack: the depth limit is checked here, so nothing recurses before it is.
    stack: list[tuple[Condition, int, tuple[str, ...], bool]] = [(condition, 1, (), properties)]
    while stack:
        node, depth, place, in_properties = stack.pop()
        tally.rules += 1
        if depth > MAX_DEPTH:
            tally.too_deep = True
            continue
        if isinstance(node, AllCondition | AnyCondition):
            children = [
                (child, depth + 1, (*place, _rule(index + 1)), in_properties)
                for index, child in enumerate(node.conditions)
            ]
            stack.extend(reversed(children))
        elif isinstance(node, NotCondition):
            stack.append((node.inner, depth + 1, place, in_properties))
        elif isinstance(node, AttributeCondition):
            problems += _attribute_problems(node, place, in_properties, tally)
        elif isinstance(node, EventCondition):
            problems += _event_problems(node, place)
            if node.where is not None:
                stack.append((node.where, depth + 1, (*place, _part("filter")), True))
        elif isinstance(node, ListCondition):
            problems += _name_problems(node.list_key, "list", (*place, _part("list")))
    if tally.too_deep:
        message = _(
            "groups are nested more than %(depth)s levels deep; move some rules up a level"
        ) % {"depth": MAX_DEPTH}
        problems.insert(0, LimitProblem("", message))
    if tally.rules > MAX_RULES:
        message = _("the condition has more than %(rules)s rules; split it into simpler ones") % {
            "rules": MAX_RULES
        }
        problems.insert(0, LimitProblem("", message))
    if tally.values > MAX_VALUES:
        message = _("the condition lists more than %(count)s values in all") % {
            "count": format_number(MAX_VALUES)
        }
        problems.insert(0, LimitProblem("", message))
    return problems


def _attribute_problems(
    node: AttributeCondition, place: tuple[str, ...], in_properties: bool, tally: _Tally
) -> list[LimitProblem]:
    if in_properties:
        problems = _name_problems(node.attribute, "property", (*place, _part("property")))
    elif not is_attribute_name(node.attribute):
        problems = [LimitProblem(_words(*place, _part("attribute")), attribute_name_rule())]
    else:
        problems = []
    values = node.value if isinstance(node.value, list) else [node.value]
    values = [value for value in values if value is not None]  # a presence test has none
    tally.values += len(values)
    if node.op == "in" and len(values) > MAX_IN_VALUES:
        message = _("%(op)s takes at most %(count)s values") % {
            "op": quote(op_words("in")),
            "count": MAX_IN_VALUES,
        }
        problems.append(LimitProblem(_words(*place, _part("value")), message))
    for value in values:
        if problem := _value_problem(value):
            problems.append(LimitProblem(_words(*place, _part("value")), problem))
            break  # one is enough to find the list at fault
    return problems


def _value_problem(value: object) -> str | None:
    if isinstance(value, str):
        if len(value) > MAX_TEXT:
            return _("the text is longer than %(count)s characters") % {
                "count": format_number(MAX_TEXT)
            }
        if "\x00" in value:
            return _("the text contains an invisible NUL character; remove it")
        if has_surrogates(value):  # names are str fields: the parser refuses them there
            return _("the text contains characters that are not valid Unicode")
        return None
    if isinstance(value, int) and not -INT64 <= value < INT64:
        return _("the number is too large; whole numbers go up to %(largest)s") % {
            "largest": format_number(INT64 - 1)
        }
    return None


def _event_problems(node: EventCondition, place: tuple[str, ...]) -> list[LimitProblem]:
    problems = _name_problems(node.event, "event", (*place, _part("event")))
    if node.value is not None and node.value > MAX_COUNT:
        message = _("the number of times can be at most %(count)s") % {
            "count": format_number(MAX_COUNT)
        }
        problems.append(LimitProblem(_words(*place, _part("value")), message))
    return problems


def event_name_problems(name: str) -> list[LimitProblem]:
    """For a goal's ``{"event": NAME}``, which names an event the way an event condition does."""
    return _name_problems(name, "event", ())


def _name_problems(name: str, what: str, place: tuple[str, ...]) -> list[LimitProblem]:
    where = _words(*place)
    if len(name) > MAX_NAME:
        return [LimitProblem(where, _too_long(what) % {"count": MAX_NAME})]
    if has_control_characters(name):
        return [LimitProblem(where, _invisible(what))]
    if what == "property" and ('"' in name or "\\" in name):
        # SQLite's JSON paths cannot name such a key, so the database could never find it.
        message = _('property names cannot contain double quotes (") or backslashes (\\)')
        return [LimitProblem(where, message)]
    return []


def _too_long(what: str) -> str:
    if what == "event":
        return _("the event name is longer than %(count)s characters")
    if what == "list":
        return _("the list name is longer than %(count)s characters")
    return _("the property name is longer than %(count)s characters")


def _invisible(what: str) -> str:
    if what == "event":
        return _("the event name contains invisible control characters; remove them")
    if what == "list":
        return _("the list name contains invisible control characters; remove them")
    return _("the property name contains invisible control characters; remove them")


def _rule(number: int) -> str:
    return pgettext("where in a condition", "rule %(number)s") % {"number": number}


def _part(name: str) -> str:
    """The part of a rule at fault, as a place: ``filter``, ``list``, ``value``…"""
    parts = {
        "attribute": pgettext("where in a condition", "attribute"),
        "event": pgettext("where in a condition", "event"),
        "filter": pgettext("where in a condition", "filter"),
        "list": pgettext("where in a condition", "list"),
        "property": pgettext("where in a condition", "property"),
        "value": pgettext("where in a condition", "value"),
    }
    return parts[name]


def _words(*place: str) -> str:
    return ", ".join(place)
