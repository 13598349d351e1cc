"""What every block kind has: output ports, a one-line summary and checks of its settings.

Block settings (``config``) parse leniently, every key optional, so that a half-finished draft
still loads; what is missing or out of range is reported by :meth:`BlockConfig.problems` and
becomes an issue. Only a wrong JSON type or an unknown key fails parsing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar, Literal

from pydantic import Field

from app.graph.conditions import Channel
from app.graph.form_fields import FormField
from app.graph.issues import Severity
from app.graph.model_base import GraphModel
from app.graph.palette import PORT_NAMES, PaletteEntry
from app.graph.wording import quote
from app.i18n.text import _

OUT_PORTS: tuple[str, ...] = ("out",)
YES_NO_PORTS: tuple[str, ...] = ("yes", "no")
NO_PORTS: tuple[str, ...] = ()

TIME_OF_DAY = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]", re.ASCII)
EMAIL_ADDRESS = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class ConfigProblem:
    """A setting that is missing (``missing=True``) or unusable; the message omits the block.

    The message is in the speaker's language: ``problems()`` runs when a draft is checked."""

    field: str
    message: str
    missing: bool = False
    severity: Severity = "error"


@dataclass(frozen=True)
class Reference:
    """A key the block points at, checked against what exists (templates, lists, segments)."""

    kind: Literal["message", "list", "segment"]
    key: str
    field: str
    channel: Channel | None = None


@dataclass(frozen=True)
class RefNames:
    """What marketers call the things blocks point at (key -> name), given by the caller so
    summaries and issues say "'Coupon 20 %'" rather than the key ``coupon-20``. A key without a
    name (unknown, or no names given) is shown as it is."""

    messages: Mapping[str, str] = field(default_factory=dict)
    lists: Mapping[str, str] = field(default_factory=dict)
    segments: Mapping[str, str] = field(default_factory=dict)

    def of(self, kind: Literal["message", "list", "segment"], key: str) -> str:
        table = {"message": self.messages, "list": self.lists, "segment": self.segments}[kind]
        return table.get(key) or key


NO_NAMES = RefNames()


class BlockConfig(GraphModel):
    def summary(self) -> str:
        raise NotImplementedError

    def named_summary(self, names: RefNames) -> str:
        """The summary with the names of what the block points at; blocks that point at
        nothing say the same either way."""
        return self.summary()

    def problems(self) -> list[ConfigProblem]:
        return []

    def references(self) -> list[Reference]:
        return []

    def templates(self) -> list[tuple[str, str, str]]:
        """Settings filled in at send time: (setting, what a marketer calls it, template)."""
        return []


# Every block kind, in the order its class was defined: ``app.graph.blocks`` builds the
# document's union, the palette and the panels' readers from it.
KIND_CLASSES: list[type[BlockBase]] = []


class BlockBase(GraphModel):
    """One block of the canvas. Subclasses pin ``type`` and ``kind`` and their config model,
    and declare what the rest of Parcours derives from the class: ``PALETTE`` (its entries in
    the canvas palette, the first naming the kind), ``FORM`` (how its panel's fields read),
    ``PORTS`` and ``PORT_NAMES`` (its outputs and their words)."""

    id: str = Field(min_length=1)
    type: str
    kind: str
    config: BlockConfig
    x: float = 0
    y: float = 0

    PORTS: ClassVar[tuple[str, ...]] = OUT_PORTS
    PORT_NAMES: ClassVar[Mapping[str, str]] = PORT_NAMES  # English, marked with N_
    # A kind whose outputs follow its settings names the config list of ``{port, label}``
    # items that are its outputs (the canvas draws them from there as they are edited); its
    # ``PORTS``, if any, come after them (a switch's ``else``).
    PORTS_FROM: ClassVar[str | None] = None
    PALETTE: ClassVar[tuple[PaletteEntry, ...]] = ()
    FORM: ClassVar[tuple[FormField, ...]] = ()

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: object) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        if _pins(cls, "type") and _pins(cls, "kind"):
            KIND_CLASSES.append(cls)

    @classmethod
    def pinned(cls) -> tuple[str, str]:
        """``("delay", "wait")``: the type and kind the class pins."""
        return _pinned_value(cls, "type"), _pinned_value(cls, "kind")

    def ports(self) -> tuple[str, ...]:
        """This block's outputs; a kind whose outputs follow its settings overrides it."""
        return type(self).PORTS

    def port_label(self, port: str) -> str:
        """How an output reads on the card, in the speaker's words."""
        name = type(self).PORT_NAMES.get(port)
        return _(name) if name else port

    @property
    def takes_input(self) -> bool:
        return self.type != "trigger"

    def summary(self, names: RefNames | None = None) -> str:
        return self.config.named_summary(names or NO_NAMES)


def _pins(model: type[BlockBase], field: str) -> bool:
    annotation = model.model_fields[field].annotation if field in model.model_fields else None
    return len(getattr(annotation, "__args__", ())) == 1


def _pinned_value(model: type[BlockBase], field: str) -> str:
    """The single value of a ``Literal[...]`` field: each block class pins its type and kind."""
    values: tuple[object, ...] = getattr(model.model_fields[field].annotation, "__args__", ())
    return str(values[0])


def shown(value: object, placeholder: str) -> str:
    """A configured value in quotes, or a placeholder such as ``(no email chosen)``."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return placeholder
    return quote(value)


def shown_ref(
    names: RefNames,
    kind: Literal["message", "list", "segment"],
    key: str | None,
    placeholder: str,
) -> str:
    """A referenced template, list or segment by its name in quotes, or the placeholder."""
    if key is None or not key.strip():
        return placeholder
    return quote(names.of(kind, key))


def blank(value: str | None) -> bool:
    return value is None or not value.strip()


def required(value: object, field: str, message: str) -> list[ConfigProblem]:
    missing = value is None or (isinstance(value, str) and not value.strip())
    return [ConfigProblem(field, message, missing=True)] if missing else []


def not_empty_if_given(value: str | None, field: str, message: str) -> list[ConfigProblem]:
    return [ConfigProblem(field, message)] if value is not None and not value.strip() else []


def time_of_day_problems(value: str | None, field: str, missing: str) -> list[ConfigProblem]:
    """``missing``: what to ask for when no time is set (``choose the time of day to …``)."""
    if blank(value):
        return [ConfigProblem(field, missing, missing=True)]
    if value is not None and TIME_OF_DAY.fullmatch(value) is None:
        problem = _("%(value)s is not a time of day; use HH:MM, e.g. 09:00")
        return [ConfigProblem(field, problem % {"value": quote(value)})]
    return []


LONGEST_WAIT_SECONDS = 10 * 365 * 86400


def positive_seconds(
    value: int | None, field: str, missing: str, not_positive: str
) -> list[ConfigProblem]:
    """``missing`` when no duration is set, ``not_positive`` when it is zero or less."""
    if value is None:
        return [ConfigProblem(field, missing, missing=True)]
    if value <= 0:
        return [ConfigProblem(field, not_positive)]
    if value > LONGEST_WAIT_SECONDS:
        # Past this the wake-up would fall beyond any calendar the engine can keep.
        return [ConfigProblem(field, _("a wait can last at most 10 years"))]
    return []
