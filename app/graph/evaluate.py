"""Evaluating a condition for one contact, with an explanation of why it held or not.

These are the semantics of condition language v1; the bulk SQL evaluator must agree exactly.
Value rules (missing, number, date, case folding) are defined in ``coercion.py``.

Composites
    ``all`` holds when no sub-condition fails, so ``all: []`` holds; ``any`` holds when one
    sub-condition holds, so ``any: []`` does not; ``not`` inverts. Every child is evaluated
    (no short-circuit) so the explanation shows all of them.

Attribute conditions (``attributes`` merges built-ins and custom attributes; an absent key is
missing)
    - ``exists`` ⇔ present; ``not_exists`` ⇔ missing. Every other operator is false on a missing
      value, **including** ``ne``; write ``not eq`` for "different or empty".
    - ``eq`` by the JSON type of the condition's value:
        number → the attribute as a number equals it (``1``, ``1.0``, ``"1"`` all equal 1);
        text → the attribute's text equals it case-insensitively (a calendar ``date`` reads as
        ``YYYY-MM-DD``); a number attribute also equals numeric text (``75001`` = ``"75001"``);
        boolean → the attribute is that boolean (``"true"`` is text, not a boolean).
      Anything else (lists, objects, datetimes against text, …) is not equal.
    - ``ne`` ⇔ present and not ``eq``. ``in`` ⇔ ``eq`` to at least one listed value.
    - ``gt gte lt lte``: both sides as numbers; false when the attribute is not a number.
    - ``contains`` / ``starts_with``: case-insensitive, on text (and ``date`` as
      ``YYYY-MM-DD``) only; numbers are not text.
    - ``before D``: instant < D. ``after D``: instant > D, or, when D is a calendar day,
      instant ≥ the next day at 00:00 UTC (so "after 2024-01-01" excludes all of Jan 1st).
      A date-only attribute is its day at 00:00 UTC; all calendar logic is in UTC.
    - ``within_last_days N`` ⇔ now - N days ≤ instant ≤ now (a day is 24 h, so future dates
      never match); ``older_than_days N`` ⇔ instant < now - N days.
    - Past the calendar's ends nothing matches: nothing is after 9999-12-31, nothing is older
      than a bound before year 1 (see ``coercion.shifted``).

Event conditions
    Count the contact's events whose name equals ``event`` exactly (case-sensitive), that
    happened at or before ``now`` and, with ``within_days D``, at or after now - D days, and
    whose properties match ``where``. ``count_gte N`` ⇔ count ≥ N; ``count_lt N`` ⇔ count < N;
    ``none`` ⇔ count = 0. ``where`` is evaluated like a contact condition whose attributes are
    the event's properties (and which has no lists, no consent and no events).

List and consent conditions
    ``member`` ⇔ the exact list key is among the contact's lists. ``granted`` ⇔ consent for
    that channel is ``True``; absent consent is not granted.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence, Set
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import Any

from pydantic import BaseModel, ConfigDict, JsonValue

from app.graph.coercion import (
    ONE_DAY,
    as_instant,
    as_number,
    as_text,
    as_utc,
    fold,
    is_date_only,
    is_missing,
    shifted,
)
from app.graph.conditions import (
    AllCondition,
    AnyCondition,
    AttributeCondition,
    Condition,
    ConsentCondition,
    EventCondition,
    ListCondition,
    NotCondition,
    describe_condition,
    describe_window,
    walk,
)
from app.graph.verdict_phrases import (
    CONSENT_WORDS,
    LIST_WORDS,
    event_phrase,
    exact,
    needs_phrase,
    needs_words,
    value_phrase,
)
from app.graph.wording import humanize, plural, quote, yes_no
from app.i18n.phrases import Phrase, say, say_n
from app.i18n.speaker import SOURCE_LANGUAGE, current, speaking


@dataclass(frozen=True)
class EventFact:
    name: str
    occurred_at: datetime  # naive means UTC
    properties: Mapping[str, Any] = field(default_factory=dict)


@dataclass(slots=True)  # not frozen: the engine builds one per contact of every chunk
class ContactFacts:
    """Everything a condition may look at for one contact, loaded beforehand (read-only)."""

    attributes: Mapping[str, Any] = field(default_factory=dict)
    lists: Set[str] = frozenset()
    consent: Mapping[str, bool] = field(default_factory=dict)  # {"email": bool, "sms": bool}
    events: Sequence[EventFact] = ()


class Explanation(BaseModel):
    """Why a condition held or not: stored in trace rows and shown on the journey page."""

    model_config = ConfigDict(frozen=True)

    result: bool
    condition: str  # the condition in words: "orders count = 1"
    seen: JsonValue = None  # what was looked at: the attribute's value, an event count, …
    text: str  # the verdict, in English: "orders count was 0, needs = 1 → no"
    children: list[Explanation] = []
    # The same verdict as a stored phrase (``Phrase.dump()``), read in the reader's language.
    say: dict[str, Any] | None = None


def evaluate(condition: Condition, facts: ContactFacts, now: datetime) -> bool:
    return explain(condition, facts, now).result


def matches_properties(condition: Condition, properties: Mapping[str, Any], now: datetime) -> bool:
    """An event-property filter (a trigger's or an event condition's ``where``)."""
    return evaluate(condition, ContactFacts(attributes=properties), now)


def explain(condition: Condition, facts: ContactFacts, now: datetime) -> Explanation:
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if current().language != SOURCE_LANGUAGE:  # ``text`` is stored English, whoever asks
        with speaking(SOURCE_LANGUAGE):
            return _explain(condition, facts, as_utc(now))
    return _explain(condition, facts, as_utc(now))


def explain_many(
    condition: Condition, facts: Mapping[int, ContactFacts], now: datetime
) -> dict[int, Explanation]:
    """``explain`` for many contacts; those that look the same to the condition (same values
    of the attributes, lists and consents it reads) share one explanation, so a chunk of
    thousands costs a handful of evaluations. Event counts differ per contact: a condition
    on events is explained for each."""
    readers = _inputs(condition)
    if readers is None:
        return {key: explain(condition, contact, now) for key, contact in facts.items()}
    shared: dict[tuple[Any, ...], Explanation] = {}
    explained: dict[int, Explanation] = {}
    for key, contact in facts.items():
        signature = tuple(read(contact) for read in readers)
        explanation = shared.get(signature)
        if explanation is None:
            explanation = shared[signature] = explain(condition, contact, now)
        explained[key] = explanation
    return explained


def _inputs(condition: Condition) -> list[Callable[[ContactFacts], Any]] | None:
    readers: list[Callable[[ContactFacts], Any]] = []
    for node in walk(condition):
        if isinstance(node, EventCondition):
            return None
        if isinstance(node, AttributeCondition):
            readers.append(partial(_attribute_signature, node.attribute))
        elif isinstance(node, ListCondition):
            readers.append(partial(_in_list, node.list_key))
        elif isinstance(node, ConsentCondition):
            readers.append(partial(_consent, node.channel))
    return readers


def _attribute_signature(name: str, facts: ContactFacts) -> tuple[str, str]:
    value = facts.attributes.get(name)
    return type(value).__name__, repr(value)  # 1, 1.0, "1" and True stay apart


def _in_list(key: str, facts: ContactFacts) -> bool:
    return key in facts.lists


def _consent(channel: str, facts: ContactFacts) -> bool | None:
    return facts.consent.get(channel)


def render_explanation(explanation: Explanation, depth: int = 0) -> str:
    """The explanation as indented lines, children under their parent."""
    lines = ["  " * depth + explanation.text]
    lines += [render_explanation(child, depth + 1) for child in explanation.children]
    return "\n".join(lines)


def _explain(condition: Condition, facts: ContactFacts, now: datetime) -> Explanation:
    words = describe_condition(condition)
    if isinstance(condition, AllCondition | AnyCondition):
        children = [_explain(child, facts, now) for child in condition.conditions]
        held = sum(child.result for child in children)
        total = len(children)
        if isinstance(condition, AllCondition):
            result, needs = held == total, "all"
            phrase = say_n(
                "%(held)s of %(count)s condition held, needs all",
                "%(held)s of %(count)s conditions held, needs all",
                total,
                held=str(held),
            )
        else:
            result, needs = held > 0, "at least one"
            phrase = say_n(
                "%(held)s of %(count)s condition held, needs at least one",
                "%(held)s of %(count)s conditions held, needs at least one",
                total,
                held=str(held),
            )
        text = f"{held} of {plural(total, 'condition')} held, needs {needs}"
        return _verdict(result, words, held, text, children, exact(phrase))
    if isinstance(condition, NotCondition):
        inner = _explain(condition.inner, facts, now)
        text = f"the condition inside was {yes_no(inner.result)}, needs no"
        phrase = (
            say("the condition inside was yes, needs no")
            if inner.result
            else say("the condition inside was no, needs no")
        )
        return _verdict(not inner.result, words, inner.result, text, [inner], phrase)
    if isinstance(condition, AttributeCondition):
        seen = facts.attributes.get(condition.attribute)
        result = attribute_holds(condition, seen, now)
        shown = "not set" if is_missing(seen) else quote(seen)
        text = f"{humanize(condition.attribute)} was {shown}, needs {needs_words(condition)}"
        phrase = say(
            "%(attribute)s was %(value)s, needs %(needs)s",
            attribute=humanize(condition.attribute),
            value=say("not set") if is_missing(seen) else value_phrase(seen),
            needs=needs_phrase(condition),
        )
        return _verdict(result, words, _json_safe(seen), text, phrase=phrase)
    if isinstance(condition, EventCondition):
        count = count_events(condition, facts.events, now)
        result = _count_holds(condition, count)
        needs = {"count_gte": "at least", "count_lt": "fewer than"}.get(condition.op, "none")
        needs += "" if condition.op == "none" else f" {condition.value}"
        window = describe_window(condition)
        text = f"{condition.event} happened {plural(count, 'time')}{window}, needs {needs}"
        return _verdict(result, words, count, text, phrase=event_phrase(condition, count))
    if isinstance(condition, ListCondition):
        member = condition.list_key in facts.lists
        was = "is" if member else "is not"
        needs = "to be" if condition.op == "member" else "not to be"
        text = f"contact {was} in list {quote(condition.list_key)}, needs {needs}"
        phrase = say(LIST_WORDS[(member, condition.op == "member")], list=quote(condition.list_key))
        return _verdict(member == (condition.op == "member"), words, member, text, phrase=phrase)
    granted = facts.consent.get(condition.channel) is True
    text = f"{condition.channel} consent was {'granted' if granted else 'not granted'}"
    text += f", needs {'granted' if condition.op == 'granted' else 'not granted'}"
    message = CONSENT_WORDS.get((condition.channel, granted, condition.op == "granted"))
    return _verdict(
        granted == (condition.op == "granted"),
        words,
        granted,
        text,
        phrase=say(message) if message else None,
    )


def attribute_holds(condition: AttributeCondition, seen: object, now: datetime) -> bool:
    op, value = condition.op, condition.value
    if op in ("exists", "not_exists"):
        return is_missing(seen) == (op == "not_exists")
    if is_missing(seen):
        return False
    if op in ("eq", "ne"):
        return _equals(seen, value) == (op == "eq")
    if op == "in":
        return isinstance(value, list) and any(_equals(seen, item) for item in value)
    if op in ("gt", "gte", "lt", "lte"):
        return _compare_numbers(op, as_number(seen), as_number(value))
    if op in ("contains", "starts_with"):
        text = as_text(seen)
        if text is None or not isinstance(value, str):
            return False
        if op == "contains":
            return fold(value) in fold(text)
        return fold(text).startswith(fold(value))
    instant = as_instant(seen)
    if instant is None:
        return False
    if op in ("within_last_days", "older_than_days"):
        days = value if isinstance(value, int) else 0
        since = shifted(now, -timedelta(days=days)) or datetime.min.replace(tzinfo=UTC)
        return since <= instant <= now if op == "within_last_days" else instant < since
    bound = as_instant(value)
    if bound is None:
        return False
    if op == "before":
        return instant < bound
    if not is_date_only(value):
        return instant > bound
    next_day = shifted(bound, ONE_DAY)
    return next_day is not None and instant >= next_day  # nothing is after 9999-12-31


def count_events(condition: EventCondition, events: Sequence[EventFact], now: datetime) -> int:
    since = None
    if condition.within_days:
        since = shifted(now, -timedelta(days=condition.within_days))
    count = 0
    for event in events:
        if event.name != condition.event:
            continue
        moment = as_utc(event.occurred_at)
        if moment > now or (since is not None and moment < since):
            continue
        if condition.where is None or matches_properties(condition.where, event.properties, now):
            count += 1
    return count


def _count_holds(condition: EventCondition, count: int) -> bool:
    wanted = condition.value or 0
    if condition.op == "count_gte":
        return count >= wanted
    if condition.op == "count_lt":
        return count < wanted
    return count == 0


def _equals(seen: object, expected: object) -> bool:
    if isinstance(expected, bool):
        return isinstance(seen, bool) and seen is expected
    if isinstance(expected, int | float):
        number = as_number(seen)
        return number is not None and number == as_number(expected)
    if not isinstance(expected, str):
        return False
    text = as_text(seen)
    if text is not None:
        return fold(text) == fold(expected)
    if isinstance(seen, int | float) and not isinstance(seen, bool):
        number = as_number(seen)
        return number is not None and number == as_number(expected)
    return False


def _compare_numbers(op: str, seen: float | None, bound: float | None) -> bool:
    if seen is None or bound is None:
        return False
    if op == "gt":
        return seen > bound
    if op == "gte":
        return seen >= bound
    if op == "lt":
        return seen < bound
    return seen <= bound


def _json_safe(value: object) -> JsonValue:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, list | tuple):
        return [_json_safe(item) for item in value]
    if isinstance(value, Mapping):
        return {str(key): _json_safe(item) for key, item in value.items()}
    return str(value)


def _verdict(
    result: bool,
    condition: str,
    seen: JsonValue,
    text: str,
    children: list[Explanation] | None = None,
    phrase: Phrase | None = None,
) -> Explanation:
    # Every field is built here from typed values: skipping validation keeps the engine's
    # per-contact cost down (one explanation per condition step).
    verdict = None
    if phrase is not None:
        answer = (
            say("%(reason)s → yes", reason=phrase)
            if result
            else say("%(reason)s → no", reason=phrase)
        )
        verdict = answer.dump()
    return Explanation.model_construct(
        result=result,
        condition=condition,
        seen=seen,
        text=f"{text} → {yes_no(result)}",
        children=children or [],
        say=verdict,
    )
