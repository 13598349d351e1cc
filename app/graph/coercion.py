"""How stored values become comparable: the value rules of condition language v1.

These functions are the single definition of "is this a number / a date / missing" and of
case-insensitive text. The bulk SQL evaluator must reproduce them exactly (or call them, e.g.
registered as SQLite functions); ``evaluate.py`` documents how conditions use them.

- **Missing**: ``None``, an absent key, or the empty string ``""``. Whitespace-only text is
  present. Lists and objects are present but never comparable.
- **Number**: an ``int`` or finite ``float`` (``bool`` is never a number), or text matching
  ``-?[0-9]+(\\.[0-9]+)?`` exactly (no spaces, no ``+``, no exponent). Compared as IEEE-754
  doubles, so ``1``, ``1.0`` and ``"1"`` are equal.
- **Instant** (for date operators): a ``datetime`` (naive means UTC), a ``date`` (midnight UTC),
  or text ``YYYY-MM-DD`` or ``YYYY-MM-DD[T ]HH:MM[:SS[.f{1,6}]][Z|±HH:MM]`` (no offset means
  UTC) naming a real moment between years 1 and 9999 UTC. Numbers (Unix timestamps) are not
  dates.
- **Folded text**: ``str.lower()`` on both sides, code point by code point, no Unicode
  normalisation and no trimming. PostgreSQL's ``lower()`` agrees except for locale-specific
  rules and U+0130; SQLite's is ASCII-only, so register :func:`fold` there.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime, timedelta

NUMBER_TEXT = re.compile(r"-?[0-9]+(\.[0-9]+)?", re.ASCII)
DATE_TEXT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)
DATETIME_TEXT = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?"
    r"(Z|[+-][0-9]{2}:[0-9]{2})?",
    re.ASCII,
)
ONE_DAY = timedelta(days=1)
MAX_DAYS = 36_500  # day counts in conditions stop at a century, so date arithmetic never overflows


def is_missing(value: object) -> bool:
    return value is None or value == ""


def as_number(value: object) -> float | None:
    """The value as a double, or None when it is not a number under the rules above."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        try:
            return float(value)
        except OverflowError:
            return None
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, str) and NUMBER_TEXT.fullmatch(value):
        number = float(value)
        return number if math.isfinite(number) else None
    return None


def fold(text: str) -> str:
    """Case-insensitive comparisons compare ``fold(a) == fold(b)``."""
    return text.lower()


def is_date_only(value: object) -> bool:
    """True for a calendar day (``date`` or ``YYYY-MM-DD`` text), which compares by whole days."""
    if isinstance(value, datetime):
        return False
    if isinstance(value, date):
        return True
    return isinstance(value, str) and DATE_TEXT.fullmatch(value) is not None


def as_instant(value: object) -> datetime | None:
    """The value as an aware UTC datetime, or None when it is not a date under the rules above."""
    try:
        if isinstance(value, datetime):
            return as_utc(value)
        if isinstance(value, date):
            return datetime(value.year, value.month, value.day, tzinfo=UTC)
        if not isinstance(value, str):
            return None
        if DATE_TEXT.fullmatch(value) is None and DATETIME_TEXT.fullmatch(value) is None:
            return None
        return as_utc(datetime.fromisoformat(value))
    except ValueError:  # shaped like a date but impossible, e.g. 2024-02-30
        return None
    except OverflowError:  # an offset pushes it past year 1 or 9999: no such instant
        return None


def as_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def as_text(value: object) -> str | None:
    """Text operators see strings, and calendar days as ``YYYY-MM-DD``; nothing else is text."""
    if isinstance(value, str):
        return value
    if isinstance(value, date) and not isinstance(value, datetime):
        return value.isoformat()
    return None


def shifted(moment: datetime, delta: timedelta) -> datetime | None:
    """``moment + delta``, or None past the calendar's ends (year 1 to 9999)."""
    try:
        return moment + delta
    except OverflowError:
        return None
