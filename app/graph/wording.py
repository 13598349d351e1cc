"""Plain-words building blocks shared by block summaries, issues and explanations."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

_UNITS = (("day", 86_400), ("hour", 3_600), ("minute", 60), ("second", 1))
_WEEK = 604_800


def humanize(name: str) -> str:
    """``orders_count`` -> ``orders count``: the canvas shows keys as words."""
    words = name.replace("_", " ").strip()
    return words or name


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    word = singular if count == 1 else (plural_form or f"{singular}s")
    return f"{count} {word}"


def quote(value: object) -> str:
    """A value as a marketer would write it: text in quotes, numbers and dates bare."""
    if value is None:
        return "not set"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, str):
        return f"'{value}'"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(quote(item) for item in value) + "]"
    return str(value)


def one_of(values: Iterable[object]) -> str:
    """``'FR', 'BE' or 'CH'``."""
    quoted = [quote(value) for value in values]
    if len(quoted) <= 1:
        return "".join(quoted)
    return ", ".join(quoted[:-1]) + " or " + quoted[-1]


def format_duration(seconds: int) -> str:
    """``172800`` -> ``2 days``; weeks only when exact, since "1 week 3 days" reads worse."""
    if seconds <= 0:
        return plural(seconds, "second")
    if seconds % _WEEK == 0:
        return plural(seconds // _WEEK, "week")
    parts = []
    remaining = seconds
    for unit, size in _UNITS:
        amount, remaining = divmod(remaining, size)
        if amount:
            parts.append(plural(amount, unit))
    return " ".join(parts)


def yes_no(result: bool) -> str:
    return "yes" if result else "no"
