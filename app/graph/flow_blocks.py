"""Blocks that steer the path: the yes/no condition and the three kinds of delay."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from app.graph.block_base import (
    WEEKDAYS,
    YES_NO_PORTS,
    BlockBase,
    BlockConfig,
    ConfigProblem,
    Reference,
    blank,
    not_empty_if_given,
    positive_seconds,
    required,
    time_of_day_problems,
)
from app.graph.condition_limits import condition_limit_problems
from app.graph.conditions import Condition, describe_condition, lists_referenced
from app.graph.wording import format_duration, quote


class IfConfig(BlockConfig):
    condition: Condition | None = Field(default=None, alias="if")

    def summary(self) -> str:
        if self.condition is None:
            return "If … (no condition set)"
        return f"If {describe_condition(self.condition)}"

    def problems(self) -> list[ConfigProblem]:
        if self.condition is None:
            return required(self.condition, "if", "set the condition to test")
        return [
            ConfigProblem("if", f"the condition cannot be used: {problem}")
            for problem in condition_limit_problems(self.condition)
        ]

    def references(self) -> list[Reference]:
        if self.condition is None:
            return []
        return [Reference("list", key, "if") for key in lists_referenced(self.condition)]


class WaitConfig(BlockConfig):
    seconds: int | None = None

    def summary(self) -> str:
        if self.seconds is None:
            return "Wait (no duration set)"
        return f"Wait {format_duration(self.seconds)}"

    def problems(self) -> list[ConfigProblem]:
        return positive_seconds(self.seconds, "seconds", "set how long to wait", "the wait")


class WaitUntilConfig(BlockConfig):
    at: str | None = None  # HH:MM in the contact's timezone
    weekdays: list[str] | None = None  # mon … sun; None: any day

    def summary(self) -> str:
        at = "(no time set)" if blank(self.at) else str(self.at)
        days = ""
        if self.weekdays:
            days = " on " + ", ".join(day.capitalize() for day in self.weekdays)
        return f"Wait until {at}{days}"

    def problems(self) -> list[ConfigProblem]:
        found = time_of_day_problems(self.at, "at", "to wait for")
        if self.weekdays is not None:
            unknown = [day for day in self.weekdays if day not in WEEKDAYS]
            if not self.weekdays:
                found.append(ConfigProblem("weekdays", "choose at least one day of the week"))
            elif unknown:
                found.append(
                    ConfigProblem(
                        "weekdays",
                        f"{quote(unknown[0])} is not a day; use {', '.join(WEEKDAYS)}",
                    )
                )
        return found


class WaitForEventConfig(BlockConfig):
    event: str | None = None
    timeout_seconds: int | None = None
    # The property that must match the one on the event that started the journey (cart_id).
    match_key: str | None = None

    def summary(self) -> str:
        event = "an event (no event chosen)" if blank(self.event) else str(self.event)
        limit = (
            ""
            if self.timeout_seconds is None
            else f" up to {format_duration(self.timeout_seconds)}"
        )
        same = "" if blank(self.match_key) else f" with the same {self.match_key}"
        return f"Wait{limit} for {event}{same}"

    def problems(self) -> list[ConfigProblem]:
        found = required(self.event, "event", "choose the event to wait for")
        found += positive_seconds(
            self.timeout_seconds,
            "timeout_seconds",
            "set how long to wait before taking the NO path",
            "the time limit",
        )
        return found + not_empty_if_given(
            self.match_key, "match_key", "the property to match can't be empty"
        )


class ConditionBlock(BlockBase):
    type: Literal["condition"]
    kind: Literal["if"]
    config: IfConfig = Field(default_factory=IfConfig)

    PORTS: ClassVar[tuple[str, ...]] = YES_NO_PORTS


class WaitBlock(BlockBase):
    type: Literal["delay"]
    kind: Literal["wait"]
    config: WaitConfig = Field(default_factory=WaitConfig)


class WaitUntilBlock(BlockBase):
    type: Literal["delay"]
    kind: Literal["wait_until"]
    config: WaitUntilConfig = Field(default_factory=WaitUntilConfig)


class WaitForEventBlock(BlockBase):
    """``yes``: the event came in time; ``no``: the time limit passed first."""

    type: Literal["delay"]
    kind: Literal["wait_for_event"]
    config: WaitForEventConfig = Field(default_factory=WaitForEventConfig)

    PORTS: ClassVar[tuple[str, ...]] = YES_NO_PORTS
