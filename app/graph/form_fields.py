"""How a block's side panel maps to its settings, both ways, declared on its block class.

A block class lists its fields in ``FORM``; each field reads its part of a submitted panel
into the settings (``read``) and puts saved settings back into the panel's values (``show``).
The panel speaks in human units (``2`` ``days``) and the document in the contract's
(``seconds: 172800``). Blank fields are left out of the settings rather than saved as empty
text, so a half-filled block reads "(no email chosen)" and the issue says what is missing.
Whether the settings make sense is not decided here: the graph's own checks do that.

Pure: a form is anything with ``get`` and ``getlist`` (the web layer passes Starlette's).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from app.i18n.text import N_, _

UNITS: dict[str, int] = {"minutes": 60, "hours": 3_600, "days": 86_400, "weeks": 604_800}
UNIT_CHOICES = tuple(UNITS)
# English, marked for the catalog; the panels show them through `_()`.
UNIT_NAMES: dict[str, str] = {
    "minutes": N_("minutes"),
    "hours": N_("hours"),
    "days": N_("days"),
    "weeks": N_("weeks"),
}
WEEKDAY_CHOICES = (
    ("mon", N_("Mon")),
    ("tue", N_("Tue")),
    ("wed", N_("Wed")),
    ("thu", N_("Thu")),
    ("fri", N_("Fri")),
    ("sat", N_("Sat")),
    ("sun", N_("Sun")),
)
# Numbers as a marketer types them; a leading zero (a phone, a postcode) stays text.
NUMBER = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?", re.ASCII)


def split_duration(seconds: object) -> tuple[float | int | None, str]:
    """``172800`` -> ``(2, "days")``: the largest unit that divides it exactly."""
    if not isinstance(seconds, int) or isinstance(seconds, bool) or seconds <= 0:
        return None, "days"
    for unit in reversed(UNIT_CHOICES):
        if seconds % UNITS[unit] == 0:
            return seconds // UNITS[unit], unit
    return round(seconds / 60, 2), "minutes"


def scalar(text: str) -> str | int | float:
    """What a typed value means: ``12`` is a number, ``0612`` and ``gold`` are text."""
    if NUMBER.fullmatch(text):
        number = float(text)
        return int(number) if number.is_integer() and "." not in text else number
    return text


class FormReader:
    """Reads one submitted form, gathering every unreadable value before complaining."""

    def __init__(self, form: Any) -> None:  # Starlette's FormData, or any get/getlist
        self.form = form
        self.errors: dict[str, str] = {}

    def text(self, name: str) -> str | None:
        value = self.form.get(name)
        if not isinstance(value, str) or not value.strip():
            return None
        return value.strip()

    def raw_text(self, name: str) -> str | None:
        """Text kept as typed (message bodies keep their spacing)."""
        value = self.form.get(name)
        return value if isinstance(value, str) and value.strip() else None

    def integer(self, name: str, label: str) -> int | None:
        text = self.text(name)
        if text is None:
            return None
        if re.fullmatch(r"-?[0-9]{1,15}", text) is None:
            self.errors[name] = _("%(label)s: type a whole number, e.g. 3") % {"label": label}
            return None
        return int(text)

    def number(self, name: str, label: str) -> int | float | None:
        text = self.text(name)
        if text is None:
            return None
        if re.fullmatch(r"-?[0-9]{1,15}([.,][0-9]{1,6})?", text) is None:
            self.errors[name] = _("%(label)s: type a number, e.g. 2") % {"label": label}
            return None
        value = float(text.replace(",", "."))
        return int(value) if value.is_integer() else value

    def duration(self, amount: str, unit: str, label: str) -> int | None:
        count = self.number(amount, label)
        if count is None:
            return None
        size = UNITS.get(str(self.form.get(unit)))
        if size is None:
            self.errors[unit] = _("choose minutes, hours, days or weeks")
            return None
        return round(count * size)

    def condition(self, name: str) -> object | None:
        """The condition builder posts its tree as JSON; the graph checks its meaning."""
        text = self.text(name)
        if text is None:
            return None
        try:
            return json.loads(text)
        except ValueError:
            self.errors[name] = _("the condition could not be read; reload the page")
            return None


def put(config: dict[str, Any], key: str, value: object) -> None:
    if value is not None:
        config[key] = value


class FormField:
    """One part of a panel. ``show`` adds nothing by default: the panel reads the settings
    of the same name as they are."""

    def read(self, form: FormReader, config: dict[str, Any]) -> None:
        raise NotImplementedError

    def show(self, config: Mapping[str, Any], values: dict[str, Any]) -> None:
        return None


@dataclass(frozen=True)
class Text(FormField):
    """A setting typed as text in a field of the same name (trimmed; blank is left out)."""

    name: str
    default: str | None = None

    def read(self, form: FormReader, config: dict[str, Any]) -> None:
        put(config, self.name, form.text(self.name) or self.default)


@dataclass(frozen=True)
class RawText(FormField):
    """Text kept as typed (message bodies keep their spacing)."""

    name: str

    def read(self, form: FormReader, config: dict[str, Any]) -> None:
        put(config, self.name, form.raw_text(self.name))


@dataclass(frozen=True)
class Typed(FormField):
    """A value whose type is what was typed: ``12`` a number, ``gold`` text."""

    name: str

    def read(self, form: FormReader, config: dict[str, Any]) -> None:
        text = form.text(self.name)
        put(config, self.name, None if text is None else scalar(text))


@dataclass(frozen=True)
class Integer(FormField):
    name: str
    label: str  # English, marked with N_: how an error names the field

    def read(self, form: FormReader, config: dict[str, Any]) -> None:
        put(config, self.name, form.integer(self.name, _(self.label)))


@dataclass(frozen=True)
class ConditionField(FormField):
    name: str

    def read(self, form: FormReader, config: dict[str, Any]) -> None:
        put(config, self.name, form.condition(self.name))


@dataclass(frozen=True)
class Duration(FormField):
    """A duration in seconds, typed as an amount and a unit (``amount``, ``unit``)."""

    name: str
    amount: str
    unit: str
    label: str  # English, marked with N_

    def read(self, form: FormReader, config: dict[str, Any]) -> None:
        put(config, self.name, form.duration(self.amount, self.unit, _(self.label)))

    def show(self, config: Mapping[str, Any], values: dict[str, Any]) -> None:
        values[self.amount], values[self.unit] = split_duration(config.get(self.name))


@dataclass(frozen=True)
class Weekdays(FormField):
    """Ticked days; all of them ticked means any day, so the setting is left out."""

    name: str

    def read(self, form: FormReader, config: dict[str, Any]) -> None:
        days = [day for day in form.form.getlist(self.name) if isinstance(day, str)]
        if days and len(days) < len(WEEKDAY_CHOICES):
            config[self.name] = days


@dataclass(frozen=True)
class DayOffset(FormField):
    """Days before or after a date: ``offset_amount`` and ``offset_side`` (on/before/after)."""

    name: str

    def read(self, form: FormReader, config: dict[str, Any]) -> None:
        amount = form.integer("offset_amount", _("The number of days"))
        side = form.form.get("offset_side")
        if amount and side in ("before", "after"):
            config[self.name] = -abs(amount) if side == "before" else abs(amount)

    def show(self, config: Mapping[str, Any], values: dict[str, Any]) -> None:
        offset = config.get(self.name) or 0
        values["offset_amount"] = abs(offset) if isinstance(offset, int) and offset else ""
        values["offset_side"] = "on" if not offset else ("before" if offset < 0 else "after")


@dataclass(frozen=True)
class SetOrAdd(FormField):
    """``mode`` chooses between a new ``value`` and an ``increment`` added to the number."""

    def read(self, form: FormReader, config: dict[str, Any]) -> None:
        if form.form.get("mode") == "add":
            put(config, "increment", form.number("increment", _("The amount to add")))
        else:
            Typed("value").read(form, config)

    def show(self, config: Mapping[str, Any], values: dict[str, Any]) -> None:
        values["mode"] = "add" if config.get("increment") is not None else "set"
