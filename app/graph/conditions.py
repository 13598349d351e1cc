"""Condition language v1 (DESIGN §4) as pydantic models.

A parsed :data:`Condition` is always well formed: each operator has a value of the right
shape, so evaluators (in memory here, in SQL elsewhere) never meet a half-built condition.
Evaluation rules live in ``evaluate.py``; value rules in ``coercion.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any, Literal, Self

from pydantic import Discriminator, Field, Tag, TypeAdapter, model_validator

from app.graph.coercion import MAX_DAYS, as_instant, as_number
from app.graph.model_base import GraphModel
from app.graph.wording import humanize, one_of, plural, quote

BUILTIN_ATTRIBUTES = frozenset(
    {"email", "phone", "first_name", "last_name", "birthday", "timezone", "score", "created_at"}
)

AttributeOp = Literal[
    "eq", "ne", "gt", "gte", "lt", "lte", "contains", "starts_with", "in",
    "exists", "not_exists", "before", "after", "within_last_days", "older_than_days",
]  # fmt: skip
EventOp = Literal["count_gte", "count_lt", "none"]
ListOp = Literal["member", "not_member"]
ConsentOp = Literal["granted", "not_granted"]
Channel = Literal["email", "sms"]
Scalar = str | int | float | bool

NUMBER_OPS = frozenset({"gt", "gte", "lt", "lte"})
TEXT_OPS = frozenset({"contains", "starts_with"})
DATE_OPS = frozenset({"before", "after"})
DAYS_OPS = frozenset({"within_last_days", "older_than_days"})
PRESENCE_OPS = frozenset({"exists", "not_exists"})

OP_WORDS: dict[str, str] = {
    "eq": "=", "ne": "≠", "gt": ">", "gte": "≥", "lt": "<", "lte": "≤",
    "contains": "contains", "starts_with": "starts with", "in": "is one of",
    "exists": "is set", "not_exists": "is not set", "before": "is before", "after": "is after",
    "within_last_days": "is within the last", "older_than_days": "is more than",
}  # fmt: skip


class AllCondition(GraphModel):
    """True when every sub-condition holds; an empty list holds (nothing failed)."""

    conditions: list[Condition] = Field(alias="all")


class AnyCondition(GraphModel):
    """True when at least one sub-condition holds; an empty list does not hold."""

    conditions: list[Condition] = Field(alias="any")


class NotCondition(GraphModel):
    inner: Condition = Field(alias="not")


class AttributeCondition(GraphModel):
    attribute: str = Field(min_length=1)
    op: AttributeOp
    value: Scalar | list[Scalar] | None = None

    @model_validator(mode="after")
    def _value_fits_op(self) -> Self:
        problem = attribute_value_problem(self.op, self.value)
        if problem:
            raise ValueError(problem)
        return self


class EventCondition(GraphModel):
    event: str = Field(min_length=1)
    op: EventOp
    value: int | None = Field(default=None, ge=0)
    within_days: int | None = Field(default=None, ge=1, le=MAX_DAYS)
    where: Condition | None = None

    @model_validator(mode="after")
    def _value_fits_op(self) -> Self:
        if self.op == "none" and self.value is not None:
            raise ValueError("'none' takes no value: it means the event never happened")
        if self.op != "none" and self.value is None:
            raise ValueError("say how many times the event must have happened ('value')")
        if self.where is not None and not is_property_filter(self.where):
            raise ValueError("a filter on event properties can only compare properties")
        return self


class ListCondition(GraphModel):
    list_key: str = Field(alias="list", min_length=1)
    op: ListOp


class ConsentCondition(GraphModel):
    channel: Channel = Field(alias="consent")
    op: ConsentOp


_MARKERS = (
    ("all", "AllCondition"),
    ("any", "AnyCondition"),
    ("not", "NotCondition"),
    ("attribute", "AttributeCondition"),
    ("event", "EventCondition"),
    ("list", "ListCondition"),
    ("consent", "ConsentCondition"),
)
CONDITION_TAGS = frozenset(tag for _, tag in _MARKERS)


def _condition_tag(raw: Any) -> str | None:
    # The key that is present says which condition this is; tags are class names so that
    # error locations can drop them without clashing with JSON keys.
    if isinstance(raw, GraphModel):
        return type(raw).__name__
    if isinstance(raw, dict):
        return next((tag for key, tag in _MARKERS if key in raw), None)
    return None


Condition = Annotated[
    Annotated[AllCondition, Tag("AllCondition")]
    | Annotated[AnyCondition, Tag("AnyCondition")]
    | Annotated[NotCondition, Tag("NotCondition")]
    | Annotated[AttributeCondition, Tag("AttributeCondition")]
    | Annotated[EventCondition, Tag("EventCondition")]
    | Annotated[ListCondition, Tag("ListCondition")]
    | Annotated[ConsentCondition, Tag("ConsentCondition")],
    Discriminator(
        _condition_tag,
        custom_error_type="unknown_condition",
        custom_error_message=(
            "a condition must be an object with one of: all, any, not, attribute, event, list,"
            " consent"
        ),
    ),
]

for _model in (AllCondition, AnyCondition, NotCondition, EventCondition):
    _model.model_rebuild()

CONDITION_ADAPTER: TypeAdapter[Condition] = TypeAdapter(Condition)


def parse_condition(raw: object) -> Condition:
    """Parse condition JSON; raises ``pydantic.ValidationError`` when it is not valid."""
    return CONDITION_ADAPTER.validate_python(raw)


def attribute_value_problem(op: str, value: object) -> str | None:
    """Why ``value`` cannot go with ``op``, in plain words, or None when it can."""
    words = OP_WORDS[op]
    if op in PRESENCE_OPS:
        return None if value is None else f"'{words}' takes no value"
    if op == "in":
        if not isinstance(value, list) or not value:
            return f"'{words}' needs a list of at least one value"
        return next((p for item in value if (p := _scalar_problem(words, item))), None)
    if isinstance(value, list):
        return f"'{words}' takes a single value, not a list"
    if op in NUMBER_OPS:
        is_number = not isinstance(value, bool | str) and as_number(value) is not None
        return None if is_number else f"'{words}' needs a number"
    if op in TEXT_OPS:
        return None if isinstance(value, str) and value else f"'{words}' needs some text"
    if op in DATE_OPS:
        is_date = isinstance(value, str) and as_instant(value) is not None
        return None if is_date else f"'{words}' needs a date like 2024-12-31 or 2024-12-31T09:00"
    if op in DAYS_OPS:
        is_days = isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_DAYS
        return None if is_days else f"'{words}' needs a whole number of days, 0 to {MAX_DAYS}"
    return _scalar_problem(words, value)


def _scalar_problem(words: str, value: object) -> str | None:
    if value is None or value == "":
        return f"'{words}' needs a value; use 'is set' / 'is not set' to test for emptiness"
    if not isinstance(value, bool) and isinstance(value, int | float) and as_number(value) is None:
        return f"'{words}': {value!r} is too large a number"
    return None


def walk(condition: Condition) -> Iterator[Condition]:
    """The condition and its all/any/not descendants (not the ``where`` of event conditions)."""
    yield condition
    if isinstance(condition, AllCondition | AnyCondition):
        for child in condition.conditions:
            yield from walk(child)
    elif isinstance(condition, NotCondition):
        yield from walk(condition.inner)


def is_property_filter(condition: Condition) -> bool:
    """Event ``where`` filters only compare the event's properties."""
    allowed = AllCondition | AnyCondition | NotCondition | AttributeCondition
    return all(isinstance(node, allowed) for node in walk(condition))


def lists_referenced(condition: Condition) -> list[str]:
    return [node.list_key for node in walk(condition) if isinstance(node, ListCondition)]


def describe_condition(condition: Condition) -> str:
    """One line a marketer can read: ``orders count = 1``."""
    if isinstance(condition, AllCondition | AnyCondition):
        if not condition.conditions:
            return "always" if isinstance(condition, AllCondition) else "never"
        joiner = " and " if isinstance(condition, AllCondition) else " or "
        parts = [_grouped(child) for child in condition.conditions]
        return joiner.join(parts)
    if isinstance(condition, NotCondition):
        return f"not {_grouped(condition.inner)}"
    if isinstance(condition, AttributeCondition):
        return f"{humanize(condition.attribute)} {describe_test(condition)}"
    if isinstance(condition, EventCondition):
        window = describe_window(condition)
        if condition.op == "none":
            return f"{condition.event} never happened{window}"
        return f"{condition.event} happened {_count_words(condition)}{window}"
    if isinstance(condition, ListCondition):
        prefix = "in" if condition.op == "member" else "not in"
        return f"{prefix} list {quote(condition.list_key)}"
    verb = "granted" if condition.op == "granted" else "not granted"
    return f"{condition.channel} consent {verb}"


def describe_test(condition: AttributeCondition) -> str:
    """The operator and value part: ``= 1``, ``is within the last 7 days``."""
    words = OP_WORDS[condition.op]
    value = condition.value
    if condition.op in PRESENCE_OPS:
        return words
    if condition.op == "in" and isinstance(value, list):
        return f"{words} {one_of(value)}"
    if condition.op == "within_last_days" and isinstance(value, int):
        return f"{words} {plural(value, 'day')}"
    if condition.op == "older_than_days" and isinstance(value, int):
        return f"{words} {plural(value, 'day')} ago"
    if condition.op in DATE_OPS:
        return f"{words} {value}"
    return f"{words} {quote(value)}"


def _count_words(condition: EventCondition) -> str:
    count = plural(condition.value or 0, "time")
    return f"at least {count}" if condition.op == "count_gte" else f"fewer than {count}"


def describe_window(condition: EventCondition) -> str:
    window = ""
    if condition.within_days is not None:
        window = f" in the last {plural(condition.within_days, 'day')}"
    if condition.where is not None:
        window += f" where {describe_condition(condition.where)}"
    return window


def _grouped(condition: Condition) -> str:
    text = describe_condition(condition)
    composite = isinstance(condition, AllCondition | AnyCondition) and len(condition.conditions) > 1
    return f"({text})" if composite else text
