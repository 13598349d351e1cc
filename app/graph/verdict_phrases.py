"""The words of a condition's verdict: "orders count was 0, needs = 1 → no".

``evaluate`` decides; this module says it, both as the English ``text`` stored with each step
and as a phrase (``app.i18n.phrases``) read later in the reader's language. Every phrase
renders in English exactly as ``text`` does; numbers go in as text for that.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

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
    describe_test,
)
from app.graph.wording import humanize, one_of, quote
from app.i18n.phrases import Phrase, say, say_n
from app.i18n.text import N_

LIST_WORDS = {
    (True, True): N_("contact is in list %(list)s, needs to be"),
    (False, True): N_("contact is not in list %(list)s, needs to be"),
    (True, False): N_("contact is in list %(list)s, needs not to be"),
    (False, False): N_("contact is not in list %(list)s, needs not to be"),
}
CONSENT_WORDS = {
    ("email", True, True): N_("email consent was granted, needs granted"),
    ("email", False, True): N_("email consent was not granted, needs granted"),
    ("email", True, False): N_("email consent was granted, needs not granted"),
    ("email", False, False): N_("email consent was not granted, needs not granted"),
    ("sms", True, True): N_("sms consent was granted, needs granted"),
    ("sms", False, True): N_("sms consent was not granted, needs granted"),
    ("sms", True, False): N_("sms consent was granted, needs not granted"),
    ("sms", False, False): N_("sms consent was not granted, needs not granted"),
}


CONSENT_GIVEN_WORDS = {
    ("email", True): say("email consent granted"),
    ("email", False): say("email consent not granted"),
    ("sms", True): say("sms consent granted"),
    ("sms", False): say("sms consent not granted"),
}


_NEEDS_COMPARED = {  # "needs = 1": French says "il fallait 1", "il fallait au moins 3"
    "eq": N_("= %(value)s"),
    "ne": N_("≠ %(value)s"),
    "gt": N_("> %(value)s"),
    "gte": N_("≥ %(value)s"),
    "lt": N_("< %(value)s"),
    "lte": N_("≤ %(value)s"),
}


def exact(phrase: Phrase) -> Phrase:
    """The count written as ``str`` writes it, so that the English is ``text`` to the letter."""
    if phrase.count is None:
        return phrase
    return replace(phrase, args={**phrase.args, "count": str(phrase.count)})


def value_phrase(value: object) -> Phrase | str:
    """A seen or expected value: ``quote`` for user data, our words for true and false."""
    if isinstance(value, bool):
        return say("true") if value else say("false")
    return quote(value)


def needs_phrase(condition: AttributeCondition) -> Phrase:
    op, value = condition.op, condition.value
    if op == "exists":
        return say("a value")
    if op == "not_exists":
        return say("no value")
    if op == "contains":
        return say("to contain %(value)s", value=quote(value))
    if op == "starts_with":
        return say("to start with %(value)s", value=quote(value))
    if op == "in" and isinstance(value, list):
        return say("one of %(values)s", values=_one_of(value))
    if op == "within_last_days" and isinstance(value, int):
        return exact(
            say_n("within the last %(count)s day", "within the last %(count)s days", value)
        )
    if op == "older_than_days" and isinstance(value, int):
        return exact(say_n("more than %(count)s day ago", "more than %(count)s days ago", value))
    if op == "before":
        return say("before %(value)s", value=str(value))
    if op == "after":
        return say("after %(value)s", value=str(value))
    if op in _NEEDS_COMPARED:
        return say(_NEEDS_COMPARED[op], value=value_phrase(value))
    return say(
        "%(op)s %(value)s",
        op=needs_words(condition).removesuffix(f" {quote(value)}"),
        value=value_phrase(value),
    )


def _one_of(values: list[Any]) -> Phrase | str:
    """``'FR', 'BE' or 'CH'`` with the reader's "or"."""
    quoted = [quote(value) for value in values]
    if len(quoted) <= 1:
        return "".join(quoted)
    return say("%(first)s or %(last)s", first=", ".join(quoted[:-1]), last=quoted[-1])


def event_phrase(condition: EventCondition, count: int) -> Phrase:
    days: Phrase | str = ""
    if condition.within_days is not None:
        days = exact(
            say_n(
                " in the last %(count)s day", " in the last %(count)s days", condition.within_days
            )
        )
    where: Phrase | str = ""
    if condition.where is not None:
        where = say(" where %(condition)s", condition=_described(condition.where))
    args = {"event": condition.event, "days": days, "where": where, "value": str(condition.value)}
    if condition.op == "count_gte":
        phrase = say_n(
            "%(event)s happened %(count)s time%(days)s%(where)s, needs at least %(value)s",
            "%(event)s happened %(count)s times%(days)s%(where)s, needs at least %(value)s",
            count,
            **args,
        )
    elif condition.op == "count_lt":
        phrase = say_n(
            "%(event)s happened %(count)s time%(days)s%(where)s, needs fewer than %(value)s",
            "%(event)s happened %(count)s times%(days)s%(where)s, needs fewer than %(value)s",
            count,
            **args,
        )
    else:
        phrase = say_n(
            "%(event)s happened %(count)s time%(days)s%(where)s, needs none",
            "%(event)s happened %(count)s times%(days)s%(where)s, needs none",
            count,
            **args,
        )
    return exact(phrase)


def _described(condition: Condition) -> Phrase | str:
    """``describe_condition`` as a phrase (an event's ``where``, read in French or English)."""
    if isinstance(condition, AllCondition | AnyCondition):
        if not condition.conditions:
            return say("always") if isinstance(condition, AllCondition) else say("never")
        joined: Phrase | str = _grouped(condition.conditions[0])
        for child in condition.conditions[1:]:
            if isinstance(condition, AllCondition):
                joined = say("%(left)s and %(right)s", left=joined, right=_grouped(child))
            else:
                joined = say("%(left)s or %(right)s", left=joined, right=_grouped(child))
        return joined
    if isinstance(condition, NotCondition):
        return say("not %(condition)s", condition=_grouped(condition.inner))
    if isinstance(condition, AttributeCondition):
        return say(
            "%(attribute)s %(test)s",
            attribute=humanize(condition.attribute),
            test=_test_phrase(condition),
        )
    if isinstance(condition, ListCondition):
        member = condition.op == "member"
        words = "in list %(list)s" if member else "not in list %(list)s"
        return say(words, list=quote(condition.list_key))
    if isinstance(condition, ConsentCondition):
        return CONSENT_GIVEN_WORDS[(condition.channel, condition.op == "granted")]
    if isinstance(condition, EventCondition):
        return _event_described(condition)
    return describe_condition(condition)


def condition_phrase(condition: Condition) -> Phrase | str:
    """``describe_condition`` as a phrase, stored now and read in the reader's language
    ("waits until plan = 'paid'")."""
    return _described(condition)


def _event_described(condition: EventCondition) -> Phrase:
    count = condition.value or 0
    if condition.op == "none":
        phrase = say("%(event)s never happened", event=condition.event)
    else:
        times = (
            say_n("at least %(count)s time", "at least %(count)s times", count)
            if condition.op == "count_gte"
            else say_n("fewer than %(count)s time", "fewer than %(count)s times", count)
        )
        phrase = say("%(event)s happened %(count)s", event=condition.event, count=exact(times))
    if condition.within_days is not None:
        days = condition.within_days
        window = exact(say_n("in the last %(count)s day", "in the last %(count)s days", days))
        phrase = say("%(first)s %(then)s", first=phrase, then=window)
    if condition.where is not None:
        where = say("where %(condition)s", condition=_described(condition.where))
        phrase = say("%(first)s %(then)s", first=phrase, then=where)
    return phrase


def _grouped(condition: Condition) -> Phrase | str:
    words = _described(condition)
    composite = isinstance(condition, AllCondition | AnyCondition) and len(condition.conditions) > 1
    return say("(%(condition)s)", condition=words) if composite else words


def _test_phrase(condition: AttributeCondition) -> Phrase:
    """``describe_test`` as a phrase: ``= 1``, ``is within the last 7 days``."""
    op, value = condition.op, condition.value
    if op == "exists":
        return say("is set")
    if op == "not_exists":
        return say("is not set")
    if op == "contains":
        return say("contains %(value)s", value=quote(value))
    if op == "starts_with":
        return say("starts with %(value)s", value=quote(value))
    if op == "in" and isinstance(value, list):
        return say("is one of %(values)s", values=_one_of(value))
    if op == "within_last_days" and isinstance(value, int):
        return exact(
            say_n("is within the last %(count)s day", "is within the last %(count)s days", value)
        )
    if op == "older_than_days" and isinstance(value, int):
        return exact(
            say_n("is more than %(count)s day ago", "is more than %(count)s days ago", value)
        )
    if op == "before":
        return say("is before %(value)s", value=str(value))
    if op == "after":
        return say("is after %(value)s", value=str(value))
    return say(
        "%(op)s %(value)s",
        op=describe_test(condition).removesuffix(f" {quote(value)}"),
        value=value_phrase(value),
    )


def needs_words(condition: AttributeCondition) -> str:
    value = condition.value
    special = {
        "exists": "a value",
        "not_exists": "no value",
        "contains": f"to contain {quote(value)}",
        "starts_with": f"to start with {quote(value)}",
    }
    if condition.op in special:
        return special[condition.op]
    if condition.op == "in" and isinstance(value, list):
        return f"one of {one_of(value)}"
    return describe_test(condition).removeprefix("is ")
