"""Wait for a condition (CONTRACTS-2 §D): park until a condition of the shared language holds,
at most ``timeout_seconds``; YES when it holds (on arrival, or later), NO at the time limit.

The engine does not poll: a waiting contact is looked at again when one of the changes its
condition can depend on is recorded for them (``wakes_on``: the system events of DESIGN §5 and
the events it counts), and once more at its deadline.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar, Literal

from pydantic import Field

from app.graph.block_base import (
    NO_NAMES,
    YES_NO_PORTS,
    BlockBase,
    BlockConfig,
    ConfigProblem,
    Reference,
    RefNames,
    positive_seconds,
    required,
)
from app.graph.condition_limits import condition_limit_problems
from app.graph.conditions import (
    AttributeCondition,
    Condition,
    ConsentCondition,
    EventCondition,
    ListCondition,
    describe_condition,
    lists_referenced,
    walk,
)
from app.graph.form_fields import ConditionField, Duration, FormField
from app.graph.palette import PaletteEntry
from app.graph.wording import format_duration
from app.i18n.text import N_, _

# What wakes a wait: (event name, the property value it must carry, or None for any).
WakeKey = tuple[str, str | None]
# The property naming what a system event is about: ``attribute_changed`` on ``plan``.
DETAIL_PROPERTY = {
    "attribute_changed": "attribute",
    "list_added": "list",
    "list_removed": "list",
    "consent_changed": "channel",
}


class WaitForConditionConfig(BlockConfig):
    condition: Condition | None = Field(default=None, alias="if")
    timeout_seconds: int | None = None

    def summary(self) -> str:
        return self.named_summary(NO_NAMES)

    def named_summary(self, names: RefNames) -> str:
        if self.condition is None:
            until = _("Wait until … (no condition set)")
        else:
            described = describe_condition(self.condition, names.lists)
            until = _("Wait until %(condition)s") % {"condition": described}
        if self.timeout_seconds is None or self.timeout_seconds <= 0:
            return until
        return _("%(wait)s, at most %(duration)s") % {
            "wait": until,
            "duration": format_duration(self.timeout_seconds),
        }

    def problems(self) -> list[ConfigProblem]:
        found = required(self.condition, "if", _("set the condition to wait for"))
        if self.condition is not None:
            found += [
                ConfigProblem("if", _("the condition cannot be used: %(problem)s") % {"problem": p})
                for p in condition_limit_problems(self.condition)
            ]
        return found + positive_seconds(
            self.timeout_seconds,
            "timeout_seconds",
            _("set how long to wait before taking the NO path"),
            _("the time limit must be longer than zero"),
        )

    def references(self) -> list[Reference]:
        if self.condition is None:
            return []
        return [Reference("list", key, "if") for key in lists_referenced(self.condition)]


def wakes_on(condition: Condition) -> set[WakeKey]:
    """The recorded changes after which the condition may answer differently: an attribute's
    ``attribute_changed`` (the score's ``score_changed``), a list's joins and leaves, a
    consent's ``consent_changed`` (and an unsubscribe for email), and the events it counts.
    Time alone (``within_last_days``, an event count's window) changes nothing here: the
    deadline's check sees it."""
    keys: set[WakeKey] = set()
    for node in walk(condition):
        if isinstance(node, AttributeCondition):
            if node.attribute == "score":
                keys.add(("score_changed", None))
            else:
                keys.add(("attribute_changed", node.attribute))
        elif isinstance(node, ListCondition):
            keys |= {("list_added", node.list_key), ("list_removed", node.list_key)}
        elif isinstance(node, ConsentCondition):
            keys.add(("consent_changed", node.channel))
            if node.channel == "email":  # an unsubscribe link withdraws it
                keys.add(("email_unsubscribed", None))
        elif isinstance(node, EventCondition):
            keys.add((node.event, None))
    return keys


def wakes(keys: set[WakeKey], name: str, properties: Mapping[str, object] | None) -> bool:
    """Whether an event of this name and properties is one of the changes in ``keys``."""
    if (name, None) in keys:
        return True
    about = DETAIL_PROPERTY.get(name)
    detail = (properties or {}).get(about) if about else None
    return detail is not None and (name, str(detail)) in keys


class WaitForConditionBlock(BlockBase):
    """``yes``: the condition held (on arrival or later); ``no``: the time limit passed."""

    type: Literal["delay"]
    kind: Literal["wait_for_condition"]
    config: WaitForConditionConfig = Field(default_factory=WaitForConditionConfig)

    PALETTE: ClassVar[tuple[PaletteEntry, ...]] = (
        PaletteEntry(
            N_("Wait for a condition"), "hourglass", N_("Until it is true, or give up after…")
        ),
    )
    FORM: ClassVar[tuple[FormField, ...]] = (
        ConditionField("if"),
        Duration("timeout_seconds", "timeout_amount", "timeout_unit", N_("The time limit")),
    )
    PORT_NAMES: ClassVar[Mapping[str, str]] = {"yes": N_("It became true"), "no": N_("Timed out")}

    PORTS: ClassVar[tuple[str, ...]] = YES_NO_PORTS
