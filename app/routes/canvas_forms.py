"""A block's side panel, both ways: settings → form values, and a submitted form → settings.

The panel speaks in human units (``2`` ``days``) and the document in the contract's
(``seconds: 172800``). Blank fields are left out of the settings rather than saved as empty
text, so a half-filled block reads "(no email chosen)" and the issue says what is missing.
Whether the settings make sense is not decided here: the graph's own checks do that.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from starlette.datastructures import FormData

from app.i18n import N_, _

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


class PanelErrors(Exception):
    """Values that cannot be read at all (a word where a number goes), by field."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


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


def form_values(block_type: str, kind: str, config: Mapping[str, Any]) -> dict[str, Any]:
    """The panel's field values for saved settings (the inverse of :func:`config_from_form`)."""
    values: dict[str, Any] = dict(config)
    if (block_type, kind) == ("delay", "wait"):
        values["amount"], values["unit"] = split_duration(config.get("seconds"))
    if (block_type, kind) == ("delay", "wait_for_event"):
        values["timeout_amount"], values["timeout_unit"] = split_duration(
            config.get("timeout_seconds")
        )
    if (block_type, kind) == ("trigger", "date_anniversary"):
        offset = config.get("offset_days") or 0
        values["offset_amount"] = abs(offset) if isinstance(offset, int) and offset else ""
        values["offset_side"] = "on" if not offset else ("before" if offset < 0 else "after")
    if (block_type, kind) == ("action", "update_attribute"):
        values["mode"] = "add" if config.get("increment") is not None else "set"
    return values


class FormReader:
    """Reads one submitted form, gathering every unreadable value before complaining."""

    def __init__(self, form: FormData) -> None:
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


def _put(config: dict[str, Any], key: str, value: object) -> None:
    if value is not None:
        config[key] = value


def _keys(*names: str) -> Callable[[FormReader], dict[str, Any]]:
    """Settings that are plain text fields of the same name."""

    def read(form: FormReader) -> dict[str, Any]:
        config: dict[str, Any] = {}
        for name in names:
            _put(config, name, form.text(name))
        return config

    return read


def _event_trigger(form: FormReader) -> dict[str, Any]:
    config = _keys("event")(form)
    _put(config, "where", form.condition("where"))
    _put(config, "key", form.text("key"))
    return config


def _anniversary(form: FormReader) -> dict[str, Any]:
    config = _keys("attribute")(form)
    amount = form.integer("offset_amount", _("The number of days"))
    side = form.form.get("offset_side")
    if amount and side in ("before", "after"):
        config["offset_days"] = -abs(amount) if side == "before" else abs(amount)
    _put(config, "at", form.text("at"))
    return config


def _attribute_changed(form: FormReader) -> dict[str, Any]:
    config = _keys("attribute")(form)
    to = form.text("to")
    _put(config, "to", None if to is None else scalar(to))
    return config


def _score_reached(form: FormReader) -> dict[str, Any]:
    config: dict[str, Any] = {}
    _put(config, "threshold", form.integer("threshold", _("The score")))
    return config


def _condition(form: FormReader) -> dict[str, Any]:
    config: dict[str, Any] = {}
    _put(config, "if", form.condition("if"))
    return config


def _wait(form: FormReader) -> dict[str, Any]:
    config: dict[str, Any] = {}
    _put(config, "seconds", form.duration("amount", "unit", _("How long")))
    return config


def _wait_until(form: FormReader) -> dict[str, Any]:
    config = _keys("at")(form)
    days = [day for day in form.form.getlist("weekdays") if isinstance(day, str)]
    if days and len(days) < len(WEEKDAY_CHOICES):
        config["weekdays"] = days
    return config


def _wait_for_event(form: FormReader) -> dict[str, Any]:
    config = _keys("event")(form)
    limit = form.duration("timeout_amount", "timeout_unit", _("The time limit"))
    _put(config, "timeout_seconds", limit)
    _put(config, "match_key", form.text("match_key"))
    return config


def _update_attribute(form: FormReader) -> dict[str, Any]:
    config = _keys("attribute")(form)
    if form.form.get("mode") == "add":
        _put(config, "increment", form.number("increment", _("The amount to add")))
    else:
        value = form.text("value")
        _put(config, "value", None if value is None else scalar(value))
    return config


def _add_score(form: FormReader) -> dict[str, Any]:
    config: dict[str, Any] = {}
    _put(config, "points", form.integer("points", _("The points")))
    return config


def _notify(form: FormReader) -> dict[str, Any]:
    config = _keys("to")(form)
    _put(config, "message", form.raw_text("message"))
    return config


def _webhook(form: FormReader) -> dict[str, Any]:
    config = _keys("url")(form)
    config["method"] = form.text("method") or "POST"
    _put(config, "body", form.raw_text("body"))
    return config


def _nothing(_form: FormReader) -> dict[str, Any]:
    return {}


READERS: dict[tuple[str, str], Callable[[FormReader], dict[str, Any]]] = {
    ("trigger", "event"): _event_trigger,
    ("trigger", "list_added"): _keys("list"),
    ("trigger", "list_removed"): _keys("list"),
    ("trigger", "contact_created"): _nothing,
    ("trigger", "date_anniversary"): _anniversary,
    ("trigger", "attribute_changed"): _attribute_changed,
    ("trigger", "score_reached"): _score_reached,
    ("trigger", "segment_entered"): _keys("segment"),
    ("trigger", "manual"): _nothing,
    ("condition", "if"): _condition,
    ("delay", "wait"): _wait,
    ("delay", "wait_until"): _wait_until,
    ("delay", "wait_for_event"): _wait_for_event,
    ("action", "send_email"): _keys("message"),
    ("action", "send_sms"): _keys("message"),
    ("action", "add_to_list"): _keys("list"),
    ("action", "remove_from_list"): _keys("list"),
    ("action", "update_attribute"): _update_attribute,
    ("action", "add_score"): _add_score,
    ("action", "notify_team"): _notify,
    ("action", "webhook"): _webhook,
    ("action", "exit"): _nothing,
}


def config_from_form(block_type: str, kind: str, form: FormData) -> dict[str, Any]:
    """The block's settings from its submitted panel; raises :class:`PanelErrors`."""
    reader = READERS.get((block_type, kind))
    if reader is None:
        raise PanelErrors(
            {
                "kind": _("there is no %(type)s block “%(kind)s”")
                % {"type": block_type, "kind": kind}
            }
        )
    state = FormReader(form)
    config = reader(state)
    if state.errors:
        raise PanelErrors(state.errors)
    return config
