"""Plain-words building blocks shared by block summaries, issues and explanations.

They speak the current speaker's language (``app.i18n.text``: the request's, or English where
nobody chose, as in the API and the worker). ``humanize`` is the exception: it shows the user's
own key names, which are data, not words of ours.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime
from functools import reduce

from app.i18n.text import _, ngettext, pgettext

_UNITS = (("day", 86_400), ("hour", 3_600), ("minute", 60), ("second", 1))
_WEEK = 604_800

# Nouns that ``plural`` can count in every language: "%(count)s …" templates of the catalog.
_COUNTED: dict[str, Callable[[int], str]] = {
    "second": lambda n: ngettext("%(count)s second", "%(count)s seconds", n),
    "minute": lambda n: ngettext("%(count)s minute", "%(count)s minutes", n),
    "hour": lambda n: ngettext("%(count)s hour", "%(count)s hours", n),
    "day": lambda n: ngettext("%(count)s day", "%(count)s days", n),
    "week": lambda n: ngettext("%(count)s week", "%(count)s weeks", n),
    "time": lambda n: ngettext("%(count)s time", "%(count)s times", n),
    "point": lambda n: ngettext("%(count)s point", "%(count)s points", n),
    "condition": lambda n: ngettext("%(count)s condition", "%(count)s conditions", n),
}


def humanize(name: str) -> str:
    """``orders_count`` -> ``orders count``: the canvas shows keys as words."""
    words = name.replace("_", " ").strip()
    return words or name


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """``3 days``. The nouns of ``_COUNTED`` (second … week, time, point, condition) are said in
    the speaker's language; any other word is shown as given (English): prefer ``counted`` or
    ``ngettext`` with a whole sentence for new words."""
    if plural_form is None and singular in _COUNTED:
        return counted(count, singular)
    word = singular if count == 1 else (plural_form or f"{singular}s")
    return f"{count} {word}"


def counted(count: int, noun: str) -> str:
    """``counted(2, "day")`` -> ``2 days`` / ``2 jours``; ``noun`` is a key of ``_COUNTED``."""
    return _COUNTED[noun](count) % {"count": count}


def quote(value: object) -> str:
    """A value as a marketer would write it: text in quotes, numbers and dates bare."""
    if value is None:
        return _("not set")
    if isinstance(value, bool):
        return _("true") if value else _("false")
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, str):
        # Translators: a value the marketer typed, in quotes (French: « %(text)s »).
        return pgettext("quoted text", "'%(text)s'") % {"text": value}
    if isinstance(value, list | tuple):
        return "[" + ", ".join(quote(item) for item in value) + "]"
    return str(value)


def one_of(values: Iterable[object]) -> str:
    """``'FR', 'BE' or 'CH'``."""
    quoted = [quote(value) for value in values]
    if len(quoted) <= 1:
        return "".join(quoted)
    return _("%(left)s or %(right)s") % {"left": ", ".join(quoted[:-1]), "right": quoted[-1]}


def joined(words: Iterable[str], joiner: str = "and") -> str:
    """``a and b and c`` (``joiner="or"``: ``a or b or c``), in the speaker's language."""

    def join(left: str, right: str) -> str:
        if joiner == "or":
            return _("%(left)s or %(right)s") % {"left": left, "right": right}
        return _("%(left)s and %(right)s") % {"left": left, "right": right}

    return reduce(join, words)


def about(subject: str, words: str) -> str:
    """``Block 'x': no email chosen``: what ``words`` are about, then the words."""
    return _("%(subject)s: %(words)s") % {"subject": subject, "words": words}


def format_duration(seconds: int) -> str:
    """``172800`` -> ``2 days``; weeks only when exact, since "1 week 3 days" reads worse."""
    if seconds <= 0:
        return counted(seconds, "second")
    if seconds % _WEEK == 0:
        return counted(seconds // _WEEK, "week")
    parts = []
    remaining = seconds
    for unit, size in _UNITS:
        amount, remaining = divmod(remaining, size)
        if amount:
            parts.append(counted(amount, unit))
    return " ".join(parts)


def yes_no(result: bool) -> str:
    return _("yes") if result else _("no")
