"""Words written now and read later, in the reader's language.

The engine records why each step went the way it did ("waits until Monday 09:00", "orders
count was 0 — needed 1 → NO") while no one is looking; the journey page shows it to whoever
opens it, in their language. So what is stored is the English message and its arguments —
``{"say": ..., "args": ...}`` beside the English ``text`` — and each reader's catalog turns it
into words. Arguments are user data (shown as given), numbers, instants, or nested phrases.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from app.i18n.formatting import format_datetime, format_number
from app.i18n.text import gettext, ngettext


@dataclass(frozen=True)
class Moment:
    """An instant argument, written in the reader's time zone and language."""

    at: datetime
    width: str = "weekday"


@dataclass(frozen=True)
class Phrase:
    message: str
    args: Mapping[str, Any] = field(default_factory=dict)
    plural: str | None = None
    count: int | None = None

    def __str__(self) -> str:
        return self.render()

    def render(self) -> str:
        if self.plural is not None:
            template = ngettext(self.message, self.plural, int(self.count or 0))
        else:
            template = gettext(self.message)
        values = {name: _shown(value) for name, value in self.args.items()}
        if self.plural is not None:
            values.setdefault("count", format_number(self.count or 0))
        try:
            return template % values if values or "%%" in template else template
        except (KeyError, ValueError, TypeError):
            # A translation that lost a placeholder must not hide what happened.
            return self.message % values if values else self.message

    def dump(self) -> dict[str, Any]:
        data: dict[str, Any] = {"say": self.message}
        if self.args:
            data["args"] = {name: _dumped(value) for name, value in self.args.items()}
        if self.plural is not None:
            data["plural"], data["n"] = self.plural, self.count
        return data

    @classmethod
    def load(cls, data: Mapping[str, Any]) -> Phrase:
        args = data.get("args") or {}
        return cls(
            message=str(data["say"]),
            args={name: _loaded(value) for name, value in dict(args).items()},
            plural=data.get("plural"),
            count=data.get("n"),
        )


def say(message: str, **args: Any) -> Phrase:
    """A phrase to translate when shown; ``message`` uses ``%(name)s`` placeholders."""
    return Phrase(message, args)


def say_n(singular: str, plural: str, count: int, **args: Any) -> Phrase:
    """A phrase that agrees with ``count`` (``%(count)s`` in it is the number, formatted)."""
    return Phrase(singular, args, plural, count)


def spoken(detail: Mapping[str, Any] | None, key: str = "text") -> str:
    """The words of a stored step detail in the reader's language (its English if older)."""
    if not detail:
        return ""
    phrase = detail.get("say")
    if isinstance(phrase, Mapping) and "say" in phrase:
        try:
            return Phrase.load(phrase).render()
        except (KeyError, TypeError, ValueError):
            pass
    return str(detail.get(key) or "")


def _shown(value: Any) -> Any:
    if isinstance(value, Phrase):
        return value.render()
    if isinstance(value, Moment):
        return format_datetime(value.at, value.width)
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float):
        return format_number(value)
    return value


def _dumped(value: Any) -> Any:
    if isinstance(value, Phrase):
        return value.dump()
    if isinstance(value, Moment):
        return {"at": value.at.isoformat(), "width": value.width}
    return value


def _loaded(value: Any) -> Any:
    if isinstance(value, Mapping):
        if "say" in value:
            return Phrase.load(value)
        if "at" in value:
            return Moment(datetime.fromisoformat(str(value["at"])), str(value.get("width", "")))
    return value
