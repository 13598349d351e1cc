"""Blocks that steer the path: the yes/no condition and the three kinds of delay."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar, Literal

from pydantic import Field

from app.graph.block_base import (
    NO_NAMES,
    WEEKDAYS,
    YES_NO_PORTS,
    BlockBase,
    BlockConfig,
    ConfigProblem,
    Reference,
    RefNames,
    blank,
    not_empty_if_given,
    positive_seconds,
    required,
    time_of_day_problems,
)
from app.graph.condition_limits import condition_limit_problems
from app.graph.conditions import Condition, describe_condition, lists_referenced
from app.graph.form_fields import ConditionField, Duration, FormField, Text, Weekdays
from app.graph.palette import PaletteEntry
from app.graph.wording import format_duration, quote
from app.i18n.text import N_, _, pgettext


class IfConfig(BlockConfig):
    condition: Condition | None = Field(default=None, alias="if")

    def summary(self) -> str:
        return self.named_summary(NO_NAMES)

    def named_summary(self, names: RefNames) -> str:
        if self.condition is None:
            return _("If … (no condition set)")
        described = describe_condition(self.condition, names.lists)
        return _("If %(condition)s") % {"condition": described}

    def problems(self) -> list[ConfigProblem]:
        if self.condition is None:
            return required(self.condition, "if", _("set the condition to test"))
        return [
            ConfigProblem("if", _("the condition cannot be used: %(problem)s") % {"problem": p})
            for p in condition_limit_problems(self.condition)
        ]

    def references(self) -> list[Reference]:
        if self.condition is None:
            return []
        return [Reference("list", key, "if") for key in lists_referenced(self.condition)]


class WaitConfig(BlockConfig):
    seconds: int | None = None

    def summary(self) -> str:
        if self.seconds is None:
            return _("Wait (no duration set)")
        return _("Wait %(duration)s") % {"duration": format_duration(self.seconds)}

    def problems(self) -> list[ConfigProblem]:
        return positive_seconds(
            self.seconds,
            "seconds",
            _("set how long to wait"),
            _("the wait must be longer than zero"),
        )


class WaitUntilConfig(BlockConfig):
    at: str | None = None  # HH:MM in the contact's timezone
    weekdays: list[str] | None = None  # mon … sun; None: any day

    def summary(self) -> str:
        at = _("(no time set)") if blank(self.at) else str(self.at)
        if not self.weekdays:
            return _("Wait until %(time)s") % {"time": at}
        return _("Wait until %(time)s on %(days)s") % {
            "time": at,
            "days": ", ".join(weekday_name(day) for day in self.weekdays),
        }

    def problems(self) -> list[ConfigProblem]:
        found = time_of_day_problems(self.at, "at", _("choose the time of day to wait for"))
        if self.weekdays is not None:
            unknown = [day for day in self.weekdays if day not in WEEKDAYS]
            if not self.weekdays:
                found.append(ConfigProblem("weekdays", _("choose at least one day of the week")))
            elif unknown:
                problem = _("%(day)s is not a day; use %(days)s") % {
                    "day": quote(unknown[0]),
                    "days": ", ".join(WEEKDAYS),
                }
                found.append(ConfigProblem("weekdays", problem))
        return found


def weekday_name(day: str) -> str:
    """``mon`` -> ``Mon`` / ``lundi``, as a block summary names the days it waits for."""
    names = {
        "mon": pgettext("weekday", "Mon"),
        "tue": pgettext("weekday", "Tue"),
        "wed": pgettext("weekday", "Wed"),
        "thu": pgettext("weekday", "Thu"),
        "fri": pgettext("weekday", "Fri"),
        "sat": pgettext("weekday", "Sat"),
        "sun": pgettext("weekday", "Sun"),
    }
    return names.get(day, day.capitalize())


class WaitForEventConfig(BlockConfig):
    event: str | None = None
    timeout_seconds: int | None = None
    # The property that must match the one on the event that started the journey (cart_id).
    match_key: str | None = None

    def summary(self) -> str:
        event = _("an event (no event chosen)") if blank(self.event) else str(self.event)
        if self.timeout_seconds is None:
            summary = _("Wait for %(event)s") % {"event": event}
        else:
            summary = _("Wait up to %(duration)s for %(event)s") % {
                "duration": format_duration(self.timeout_seconds),
                "event": event,
            }
        if blank(self.match_key):
            return summary
        return _("%(summary)s with the same %(property)s") % {
            "summary": summary,
            "property": self.match_key,
        }

    def problems(self) -> list[ConfigProblem]:
        found = required(self.event, "event", _("choose the event to wait for"))
        found += positive_seconds(
            self.timeout_seconds,
            "timeout_seconds",
            _("set how long to wait before taking the NO path"),
            _("the time limit must be longer than zero"),
        )
        return found + not_empty_if_given(
            self.match_key, "match_key", _("the property to match can't be empty")
        )


class ConditionBlock(BlockBase):
    type: Literal["condition"]
    kind: Literal["if"]
    config: IfConfig = Field(default_factory=IfConfig)

    PALETTE: ClassVar[tuple[PaletteEntry, ...]] = (
        PaletteEntry(N_("If / else"), "branch", N_("Yes or no, by what you know")),
    )
    FORM: ClassVar[tuple[FormField, ...]] = (ConditionField("if"),)

    PORTS: ClassVar[tuple[str, ...]] = YES_NO_PORTS


class WaitBlock(BlockBase):
    type: Literal["delay"]
    kind: Literal["wait"]
    config: WaitConfig = Field(default_factory=WaitConfig)

    PALETTE: ClassVar[tuple[PaletteEntry, ...]] = (
        PaletteEntry(N_("Wait"), "clock", N_("Minutes, hours, days or weeks")),
    )
    FORM: ClassVar[tuple[FormField, ...]] = (Duration("seconds", "amount", "unit", N_("How long")),)


class WaitUntilBlock(BlockBase):
    type: Literal["delay"]
    kind: Literal["wait_until"]
    config: WaitUntilConfig = Field(default_factory=WaitUntilConfig)

    PALETTE: ClassVar[tuple[PaletteEntry, ...]] = (
        PaletteEntry(N_("Wait until a time"), "calendar", N_("E.g. Monday 09:00")),
    )
    FORM: ClassVar[tuple[FormField, ...]] = (Text("at"), Weekdays("weekdays"))


class WaitForEventBlock(BlockBase):
    """``yes``: the event came in time; ``no``: the time limit passed first."""

    type: Literal["delay"]
    kind: Literal["wait_for_event"]
    config: WaitForEventConfig = Field(default_factory=WaitForEventConfig)

    PALETTE: ClassVar[tuple[PaletteEntry, ...]] = (
        PaletteEntry(N_("Wait for an event"), "hourglass", N_("Or give up after…")),
    )
    FORM: ClassVar[tuple[FormField, ...]] = (
        Text("event"),
        Duration("timeout_seconds", "timeout_amount", "timeout_unit", N_("The time limit")),
        Text("match_key"),
    )
    PORT_NAMES: ClassVar[Mapping[str, str]] = {"yes": N_("It came"), "no": N_("Timed out")}

    PORTS: ClassVar[tuple[str, ...]] = YES_NO_PORTS
