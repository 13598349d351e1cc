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
)
from app.graph.names import (
    ATTRIBUTE_NAME_RULE,
    has_control_characters,
    has_surrogates,
    is_attribute_name,
)

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
    """One limit a condition goes past; ``place`` says where, in words (``rule 2, value``)."""

    place: str
    message: str

    def __str__(self) -> str:
        return f"{self.place}: {self.message}" if self.place else self.message


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
                (child, depth + 1, (*place, f"rule {index + 1}"), in_properties)
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
                stack.append((node.where, depth + 1, (*place, "filter"), True))
        elif isinstance(node, ListCondition):
            problems += _name_problems(node.list_key, "list", (*place, "list"))
    if tally.too_deep:
        message = f"groups are nested more than {MAX_DEPTH} levels deep; move some rules up a level"
        problems.insert(0, LimitProblem("", message))
    if tally.rules > MAX_RULES:
        message = f"the condition has more than {MAX_RULES} rules; split it into simpler ones"
        problems.insert(0, LimitProblem("", message))
    if tally.values > MAX_VALUES:
        message = f"the condition lists more than {MAX_VALUES:,} values in all"
        problems.insert(0, LimitProblem("", message))
    return problems


def _attribute_problems(
    node: AttributeCondition, place: tuple[str, ...], in_properties: bool, tally: _Tally
) -> list[LimitProblem]:
    if in_properties:
        problems = _name_problems(node.attribute, "property", (*place, "property"))
    elif not is_attribute_name(node.attribute):
        problems = [LimitProblem(_words(*place, "attribute"), ATTRIBUTE_NAME_RULE)]
    else:
        problems = []
    values = node.value if isinstance(node.value, list) else [node.value]
    values = [value for value in values if value is not None]  # a presence test has none
    tally.values += len(values)
    if node.op == "in" and len(values) > MAX_IN_VALUES:
        message = f"'is one of' takes at most {MAX_IN_VALUES} values"
        problems.append(LimitProblem(_words(*place, "value"), message))
    for value in values:
        if problem := _value_problem(value):
            problems.append(LimitProblem(_words(*place, "value"), problem))
            break  # one is enough to find the list at fault
    return problems


def _value_problem(value: object) -> str | None:
    if isinstance(value, str):
        if len(value) > MAX_TEXT:
            return f"the text is longer than {MAX_TEXT:,} characters"
        if "\x00" in value:
            return "the text contains an invisible NUL character; remove it"
        if has_surrogates(value):  # names are str fields: the parser refuses them there
            return "the text contains characters that are not valid Unicode"
        return None
    if isinstance(value, int) and not -INT64 <= value < INT64:
        return "the number is too large; whole numbers go up to 9,223,372,036,854,775,807"
    return None


def _event_problems(node: EventCondition, place: tuple[str, ...]) -> list[LimitProblem]:
    problems = _name_problems(node.event, "event", (*place, "event"))
    if node.value is not None and node.value > MAX_COUNT:
        message = f"the number of times can be at most {MAX_COUNT:,}"
        problems.append(LimitProblem(_words(*place, "value"), message))
    return problems


def event_name_problems(name: str) -> list[LimitProblem]:
    """For a goal's ``{"event": NAME}``, which names an event the way an event condition does."""
    return _name_problems(name, "event", ())


def _name_problems(name: str, what: str, place: tuple[str, ...]) -> list[LimitProblem]:
    where = _words(*place)
    if len(name) > MAX_NAME:
        return [LimitProblem(where, f"the {what} name is longer than {MAX_NAME} characters")]
    if has_control_characters(name):
        message = f"the {what} name contains invisible control characters; remove them"
        return [LimitProblem(where, message)]
    if what == "property" and ('"' in name or "\\" in name):
        # SQLite's JSON paths cannot name such a key, so the database could never find it.
        message = 'property names cannot contain double quotes (") or backslashes (\\)'
        return [LimitProblem(where, message)]
    return []


def _words(*place: str) -> str:
    return ", ".join(place)
