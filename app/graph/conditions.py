"""Condition language v1 (DESIGN §4) as pydantic models.

A parsed :data:`Condition` is always well formed: each operator has a value of the right
shape, so evaluators (in memory here, in SQL elsewhere) never meet a half-built condition.
Evaluation rules live in ``evaluate.py``; value rules in ``coercion.py``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Annotated, Any, Literal, Self

from pydantic import Discriminator, Field, Tag, TypeAdapter, model_validator

from app.graph.coercion import MAX_DAYS, as_instant, as_number
from app.graph.model_base import GraphModel
from app.graph.wording import humanize, joined, one_of, quote
from app.i18n.text import N_, _, ngettext

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

# English words of each operator; show them with ``op_words(op)`` (or ``_(OP_WORDS[op])``).
OP_WORDS: dict[str, str] = {
    "eq": "=", "ne": "≠", "gt": ">", "gte": "≥", "lt": "<", "lte": "≤",
    "contains": N_("contains"), "starts_with": N_("starts with"), "in": N_("is one of"),
    "exists": N_("is set"), "not_exists": N_("is not set"),
    "before": N_("is before"), "after": N_("is after"),
    "within_last_days": N_("is within the last"), "older_than_days": N_("is more than"),
}  # fmt: skip
SYMBOLS = frozenset({"eq", "ne", "gt", "gte", "lt", "lte"})
UNKNOWN_CONDITION = N_(
    "a condition must be an object with one of: all, any, not, attribute, event, list, consent"
)


def op_words(op: str) -> str:
    """The operator in the speaker's language: ``is one of`` / ``fait partie de``; ``=``."""
    words = OP_WORDS[op]
    return words if op in SYMBOLS else _(words)


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
            raise ValueError(_("'none' takes no value: it means the event never happened"))
        if self.op != "none" and self.value is None:
            raise ValueError(_("say how many times the event must have happened ('value')"))
        if self.where is not None and not is_property_filter(self.where):
            raise ValueError(_("a filter on event properties can only compare properties"))
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
        custom_error_message=UNKNOWN_CONDITION,
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
    words = {"op": quote(op_words(op))}
    if op in PRESENCE_OPS:
        return None if value is None else _("%(op)s takes no value") % words
    if op == "in":
        if not isinstance(value, list) or not value:
            return _("%(op)s needs a list of at least one value") % words
        return next((p for item in value if (p := _scalar_problem(op, item))), None)
    if isinstance(value, list):
        return _("%(op)s takes a single value, not a list") % words
    if op in NUMBER_OPS:
        is_number = not isinstance(value, bool | str) and as_number(value) is not None
        return None if is_number else _("%(op)s needs a number") % words
    if op in TEXT_OPS:
        return None if isinstance(value, str) and value else _("%(op)s needs some text") % words
    if op in DATE_OPS:
        is_date = isinstance(value, str) and as_instant(value) is not None
        problem = _("%(op)s needs a date like 2024-12-31 or 2024-12-31T09:00")
        return None if is_date else problem % words
    if op in DAYS_OPS:
        is_days = isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_DAYS
        problem = _("%(op)s needs a whole number of days, 0 to %(max)s")
        return None if is_days else problem % {**words, "max": MAX_DAYS}
    return _scalar_problem(op, value)


def _scalar_problem(op: str, value: object) -> str | None:
    words = quote(op_words(op))
    if value is None or value == "":
        return _("%(op)s needs a value; use %(set)s / %(not_set)s to test for emptiness") % {
            "op": words,
            "set": quote(op_words("exists")),
            "not_set": quote(op_words("not_exists")),
        }
    if not isinstance(value, bool) and isinstance(value, int | float) and as_number(value) is None:
        return _("%(op)s: %(value)s is too large a number") % {"op": words, "value": repr(value)}
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


def describe_condition(condition: Condition, list_names: Mapping[str, str] | None = None) -> str:
    """One line a marketer can read: ``orders count = 1``; lists by their names when the
    caller gives them (key -> name), by their keys otherwise."""
    if isinstance(condition, AllCondition | AnyCondition):
        if not condition.conditions:
            return _("always") if isinstance(condition, AllCondition) else _("never")
        parts = [_grouped(child, list_names) for child in condition.conditions]
        return joined(parts, "and" if isinstance(condition, AllCondition) else "or")
    if isinstance(condition, NotCondition):
        return _("not %(condition)s") % {"condition": _grouped(condition.inner, list_names)}
    if isinstance(condition, AttributeCondition):
        return f"{humanize(condition.attribute)} {describe_test(condition)}"
    if isinstance(condition, EventCondition):
        window = describe_window(condition)
        if condition.op == "none":
            return _("%(event)s never happened") % {"event": condition.event} + window
        happened = _("%(event)s happened %(count)s")
        return happened % {"event": condition.event, "count": _count_words(condition)} + window
    if isinstance(condition, ListCondition):
        words = _("in list %(list)s") if condition.op == "member" else _("not in list %(list)s")
        name = (list_names or {}).get(condition.list_key) or condition.list_key
        return words % {"list": quote(name)}
    return _consent_words(condition.channel, condition.op == "granted")


def _consent_words(channel: Channel, granted: bool) -> str:
    if channel == "email":
        return _("email consent granted") if granted else _("email consent not granted")
    return _("sms consent granted") if granted else _("sms consent not granted")


def describe_test(condition: AttributeCondition) -> str:
    """The operator and value part: ``= 1``, ``is within the last 7 days``."""
    op, value = condition.op, condition.value
    if op in PRESENCE_OPS:
        return op_words(op)
    if op == "in" and isinstance(value, list):
        return _("is one of %(values)s") % {"values": one_of(value)}
    if op == "within_last_days" and isinstance(value, int):
        return ngettext(
            "is within the last %(count)s day", "is within the last %(count)s days", value
        ) % {"count": value}
    if op == "older_than_days" and isinstance(value, int):
        return ngettext(
            "is more than %(count)s day ago", "is more than %(count)s days ago", value
        ) % {"count": value}
    if op == "before":
        return _("is before %(value)s") % {"value": value}
    if op == "after":
        return _("is after %(value)s") % {"value": value}
    if op == "contains":
        return _("contains %(value)s") % {"value": quote(value)}
    if op == "starts_with":
        return _("starts with %(value)s") % {"value": quote(value)}
    return f"{op_words(op)} {quote(value)}"


def _count_words(condition: EventCondition) -> str:
    count = condition.value or 0
    if condition.op == "count_gte":
        words = ngettext("at least %(count)s time", "at least %(count)s times", count)
    else:
        words = ngettext("fewer than %(count)s time", "fewer than %(count)s times", count)
    return words % {"count": count}


def describe_window(condition: EventCondition) -> str:
    """What narrows an event count, with a leading space: `` in the last 7 days where …``."""
    window = ""
    if condition.within_days is not None:
        days = condition.within_days
        window = " " + ngettext("in the last %(count)s day", "in the last %(count)s days", days) % {
            "count": days
        }
    if condition.where is not None:
        where = describe_condition(condition.where)
        window += " " + _("where %(condition)s") % {"condition": where}
    return window


def _grouped(condition: Condition, list_names: Mapping[str, str] | None = None) -> str:
    text = describe_condition(condition, list_names)
    composite = isinstance(condition, AllCondition | AnyCondition) and len(condition.conditions) > 1
    return f"({text})" if composite else text
