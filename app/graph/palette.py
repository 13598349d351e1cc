"""How a block kind shows in the canvas palette, declared on its block class.

A block class lists its palette entries in ``PALETTE`` (the first is the kind itself, any
others are presets: "When someone buys" is an event trigger on ``purchase``). The family a
kind sits in is its ``type``. Words are English, marked with ``N_`` for the catalog; the
catalog (``app/services/scenarios/block_catalog.py``) says them in the speaker's words.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from app.i18n.text import N_


@dataclass(frozen=True)
class PaletteEntry:
    name: str
    icon: str
    hint: str
    config: Mapping[str, Any] = field(default_factory=dict)
    preset: str = ""  # set for a second entry of the same kind


# The palette's families, in its order: (name, hint) of each block type.
FAMILY_WORDS: dict[str, tuple[str, str]] = {
    "trigger": (N_("Triggers"), N_("What starts the journey")),
    "condition": (N_("Conditions"), N_("Split the path in two")),
    "delay": (N_("Delays"), N_("Let time pass")),
    "action": (N_("Actions"), N_("Do something for the contact")),
}

PORT_NAMES: dict[str, str] = {"out": N_("Next"), "yes": N_("Yes"), "no": N_("No")}
