"""Trigger blocks: the entry points of a scenario. They have no input and one ``out`` port."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from app.graph.block_base import (
    NO_NAMES,
    BlockBase,
    BlockConfig,
    ConfigProblem,
    Reference,
    RefNames,
    blank,
    not_empty_if_given,
    required,
    shown,
    shown_ref,
    time_of_day_problems,
)
from app.graph.condition_limits import condition_limit_problems
from app.graph.conditions import Condition, Scalar, describe_condition, is_property_filter
from app.graph.form_fields import ConditionField, DayOffset, FormField, Integer, Text, Typed
from app.graph.palette import PaletteEntry
from app.graph.wording import humanize, quote
from app.i18n.text import N_, _, ngettext

MAX_ANNIVERSARY_OFFSET_DAYS = 365


class EventTriggerConfig(BlockConfig):
    event: str | None = None
    where: Condition | None = None
    # The property naming one instance (e.g. ``cart_id``), so a wait-for-event can match it.
    key: str | None = None

    def summary(self) -> str:
        if blank(self.event):
            return _("When an event happens (no event chosen)")
        if self.where is None:
            return _("When %(event)s happens") % {"event": self.event}
        return _("When %(event)s happens where %(condition)s") % {
            "event": self.event,
            "condition": describe_condition(self.where),
        }

    def problems(self) -> list[ConfigProblem]:
        found = required(self.event, "event", _("choose the event that starts the journey"))
        found += not_empty_if_given(self.key, "key", _("the instance property can't be empty"))
        if self.where is not None and not is_property_filter(self.where):
            found.append(
                ConfigProblem("where", _("the filter can only compare the event's properties"))
            )
        elif self.where is not None:
            found += [
                ConfigProblem(
                    "where", _("the filter cannot be used: %(problem)s") % {"problem": problem}
                )
                for problem in condition_limit_problems(self.where, properties=True)
            ]
        return found


class _ListTriggerConfig(BlockConfig):
    list_key: str | None = Field(default=None, alias="list")

    def problems(self) -> list[ConfigProblem]:
        return required(self.list_key, "list", _("choose the list"))

    def references(self) -> list[Reference]:
        return [] if blank(self.list_key) else [Reference("list", str(self.list_key), "list")]


class ListAddedConfig(_ListTriggerConfig):
    def summary(self) -> str:
        return self.named_summary(NO_NAMES)

    def named_summary(self, names: RefNames) -> str:
        return _("When a contact is added to list %(list)s") % {
            "list": shown_ref(names, "list", self.list_key, _("(no list chosen)"))
        }


class ListRemovedConfig(_ListTriggerConfig):
    def summary(self) -> str:
        return self.named_summary(NO_NAMES)

    def named_summary(self, names: RefNames) -> str:
        return _("When a contact leaves list %(list)s") % {
            "list": shown_ref(names, "list", self.list_key, _("(no list chosen)"))
        }


class ContactCreatedConfig(BlockConfig):
    def summary(self) -> str:
        return _("When a contact is created")


class DateAnniversaryConfig(BlockConfig):
    attribute: str | None = None
    offset_days: int = 0  # negative: before the date (-7 = a week before)
    at: str | None = None  # HH:MM in the contact's timezone

    def summary(self) -> str:
        date_name = (
            _("(no date chosen)") if blank(self.attribute) else humanize(str(self.attribute))
        )
        days = abs(self.offset_days)
        if not self.offset_days:
            when = _("Every year, on %(date)s") % {"date": date_name}
        elif self.offset_days < 0:
            when = ngettext(
                "Every year, %(count)s day before %(date)s",
                "Every year, %(count)s days before %(date)s",
                days,
            ) % {"count": days, "date": date_name}
        else:
            when = ngettext(
                "Every year, %(count)s day after %(date)s",
                "Every year, %(count)s days after %(date)s",
                days,
            ) % {"count": days, "date": date_name}
        if blank(self.at):
            return when
        return _("%(when)s at %(time)s") % {"when": when, "time": self.at}

    def problems(self) -> list[ConfigProblem]:
        found = required(self.attribute, "attribute", _("choose the date to celebrate"))
        if abs(self.offset_days) > MAX_ANNIVERSARY_OFFSET_DAYS:
            found.append(ConfigProblem("offset_days", _("the offset must be within a year")))
        missing = _("choose the time of day to start the journey")
        return found + time_of_day_problems(self.at, "at", missing)


class AttributeChangedConfig(BlockConfig):
    attribute: str | None = None
    to: Scalar | None = None  # None: any new value

    def summary(self) -> str:
        if blank(self.attribute):
            return _("When an attribute changes (no attribute chosen)")
        name = humanize(str(self.attribute))
        if self.to is None:
            return _("When %(attribute)s changes") % {"attribute": name}
        return _("When %(attribute)s changes to %(value)s") % {
            "attribute": name,
            "value": quote(self.to),
        }

    def problems(self) -> list[ConfigProblem]:
        return required(self.attribute, "attribute", _("choose the attribute to watch"))


class ScoreReachedConfig(BlockConfig):
    threshold: int | None = None

    def summary(self) -> str:
        return _("When the score reaches %(threshold)s") % {
            "threshold": shown(self.threshold, _("(no threshold set)"))
        }

    def problems(self) -> list[ConfigProblem]:
        return required(self.threshold, "threshold", _("set the score to reach"))


class SegmentEnteredConfig(BlockConfig):
    segment: str | None = None

    def summary(self) -> str:
        return self.named_summary(NO_NAMES)

    def named_summary(self, names: RefNames) -> str:
        return _("When a contact enters segment %(segment)s") % {
            "segment": shown_ref(names, "segment", self.segment, _("(no segment chosen)"))
        }

    def problems(self) -> list[ConfigProblem]:
        return required(self.segment, "segment", _("choose the segment"))

    def references(self) -> list[Reference]:
        return [] if blank(self.segment) else [Reference("segment", str(self.segment), "segment")]


class ManualConfig(BlockConfig):
    def summary(self) -> str:
        return _("When enrolled by hand")


class EventTrigger(BlockBase):
    type: Literal["trigger"]
    kind: Literal["event"]
    config: EventTriggerConfig = Field(default_factory=EventTriggerConfig)

    PALETTE: ClassVar[tuple[PaletteEntry, ...]] = (
        PaletteEntry(
            N_("When someone buys"),
            "cart",
            N_("A purchase comes in from your shop"),
            config={"event": "purchase"},
            preset="purchase",
        ),
        PaletteEntry(N_("When something happens"), "event", N_("Any event: signup, visit…")),
    )
    FORM: ClassVar[tuple[FormField, ...]] = (Text("event"), ConditionField("where"), Text("key"))


class ListAddedTrigger(BlockBase):
    type: Literal["trigger"]
    kind: Literal["list_added"]
    config: ListAddedConfig = Field(default_factory=ListAddedConfig)

    PALETTE: ClassVar[tuple[PaletteEntry, ...]] = (
        PaletteEntry(N_("When added to a list"), "list-plus", N_("Joins a list")),
    )
    FORM: ClassVar[tuple[FormField, ...]] = (Text("list"),)


class ListRemovedTrigger(BlockBase):
    type: Literal["trigger"]
    kind: Literal["list_removed"]
    config: ListRemovedConfig = Field(default_factory=ListRemovedConfig)

    PALETTE: ClassVar[tuple[PaletteEntry, ...]] = (
        PaletteEntry(N_("When removed from a list"), "list-minus", N_("Leaves a list")),
    )
    FORM: ClassVar[tuple[FormField, ...]] = (Text("list"),)


class ContactCreatedTrigger(BlockBase):
    type: Literal["trigger"]
    kind: Literal["contact_created"]
    config: ContactCreatedConfig = Field(default_factory=ContactCreatedConfig)

    PALETTE: ClassVar[tuple[PaletteEntry, ...]] = (
        PaletteEntry(N_("When a contact is new"), "user-plus", N_("First seen")),
    )


class DateAnniversaryTrigger(BlockBase):
    type: Literal["trigger"]
    kind: Literal["date_anniversary"]
    config: DateAnniversaryConfig = Field(default_factory=DateAnniversaryConfig)

    PALETTE: ClassVar[tuple[PaletteEntry, ...]] = (
        PaletteEntry(N_("On their birthday"), "cake", N_("Or any yearly date")),
    )
    FORM: ClassVar[tuple[FormField, ...]] = (
        Text("attribute"),
        DayOffset("offset_days"),
        Text("at"),
    )


class AttributeChangedTrigger(BlockBase):
    type: Literal["trigger"]
    kind: Literal["attribute_changed"]
    config: AttributeChangedConfig = Field(default_factory=AttributeChangedConfig)

    PALETTE: ClassVar[tuple[PaletteEntry, ...]] = (
        PaletteEntry(N_("When a detail changes"), "edit", N_("E.g. city, plan")),
    )
    FORM: ClassVar[tuple[FormField, ...]] = (Text("attribute"), Typed("to"))


class ScoreReachedTrigger(BlockBase):
    type: Literal["trigger"]
    kind: Literal["score_reached"]
    config: ScoreReachedConfig = Field(default_factory=ScoreReachedConfig)

    PALETTE: ClassVar[tuple[PaletteEntry, ...]] = (
        PaletteEntry(N_("When the score reaches"), "star", N_("A hot lead")),
    )
    FORM: ClassVar[tuple[FormField, ...]] = (Integer("threshold", N_("The score")),)


class SegmentEnteredTrigger(BlockBase):
    type: Literal["trigger"]
    kind: Literal["segment_entered"]
    config: SegmentEnteredConfig = Field(default_factory=SegmentEnteredConfig)

    PALETTE: ClassVar[tuple[PaletteEntry, ...]] = (
        PaletteEntry(N_("When entering a segment"), "segment", N_("Starts to match")),
    )
    FORM: ClassVar[tuple[FormField, ...]] = (Text("segment"),)


class ManualTrigger(BlockBase):
    type: Literal["trigger"]
    kind: Literal["manual"]
    config: ManualConfig = Field(default_factory=ManualConfig)

    PALETTE: ClassVar[tuple[PaletteEntry, ...]] = (
        PaletteEntry(N_("When enrolled by hand"), "hand", N_("From a list or the API")),
    )
