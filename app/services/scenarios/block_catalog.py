"""What the canvas palette offers: every block kind with its plain name, icon and family.

Names are what a marketer reads ("Wait", "Send an email"); the ``type``/``kind`` pair is what
the saved document holds (DESIGN §3). A preset is a palette entry that starts a kind with some
settings filled in ("When someone buys" is an event trigger on ``purchase``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from app.graph import BLOCK_CLASSES
from app.graph.palette import FAMILY_WORDS, PORT_NAMES
from app.i18n import _


@dataclass(frozen=True)
class BlockInfo:
    type: str
    kind: str
    name: str
    icon: str
    hint: str
    config: dict[str, Any] = field(default_factory=dict)
    preset: str = ""  # set for a second palette entry of the same kind

    @property
    def ports(self) -> tuple[str, ...]:
        return tuple(port for port, _label in self.port_labels)

    @property
    def port_labels(self) -> tuple[tuple[str, str], ...]:
        return ports_of(self.type, self.kind, self.config)

    @property
    def takes_input(self) -> bool:
        return self.type != "trigger"

    @property
    def testid(self) -> str:
        suffix = f"-{self.preset}" if self.preset else ""
        return f"palette-{self.type}-{self.kind}{suffix}"


@dataclass(frozen=True)
class Family:
    type: str
    name: str
    hint: str
    blocks: tuple[BlockInfo, ...]


# Derived from the block classes (their ``PALETTE``, app/graph/palette.py): the tables hold
# English, marked with N_ where the classes declare it; what a person reads comes from the
# functions after them (families, block_info, shown_as, port_label), in the speaker's words.
FAMILIES: tuple[Family, ...] = tuple(
    Family(
        block_type,
        name,
        hint,
        tuple(
            BlockInfo(
                block_type,
                kind,
                entry.name,
                entry.icon,
                entry.hint,
                config=dict(entry.config),
                preset=entry.preset,
            )
            for (t, kind), model in BLOCK_CLASSES.items()
            if t == block_type
            for entry in model.PALETTE
        ),
    )
    for block_type, (name, hint) in FAMILY_WORDS.items()
)

# One entry per kind (the generic one, not a preset): how cards and panels name a block.
BLOCKS: dict[tuple[str, str], BlockInfo] = {
    (info.type, info.kind): info for family in FAMILIES for info in family.blocks if not info.preset
}


def spoken(info: BlockInfo) -> BlockInfo:
    """The entry in the current speaker's words (the tables hold English)."""
    return replace(info, name=_(info.name), hint=_(info.hint))


def families() -> tuple[Family, ...]:
    """The palette, in the current speaker's words."""
    return tuple(
        replace(
            family,
            name=_(family.name),
            hint=_(family.hint),
            blocks=tuple(spoken(info) for info in family.blocks),
        )
        for family in FAMILIES
    )


def block_info(block_type: str, kind: str) -> BlockInfo | None:
    info = BLOCKS.get((block_type, kind))
    return None if info is None else spoken(info)


def shown_as(block_type: str, kind: str, config: dict[str, Any]) -> BlockInfo | None:
    """How a card looks: as a preset when its settings match one ("When someone buys")."""
    for family in FAMILIES:
        for info in family.blocks:
            same_kind = (info.type, info.kind) == (block_type, kind)
            if (
                same_kind
                and info.preset
                and all(config.get(k) == v for k, v in info.config.items())
            ):
                return spoken(info)
    return block_info(block_type, kind)


def port_label(block_type: str, kind: str, port: str) -> str:
    """How a port reads on the card; a wait-for-event says what yes and no mean."""
    model = BLOCK_CLASSES.get((block_type, kind))
    name = model.PORT_NAMES.get(port) if model else PORT_NAMES.get(port)
    return _(name) if name else port


def ports_of(block_type: str, kind: str, config: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    """A block's outputs with their words: the kind's, or — for a kind whose outputs follow its
    settings (a split's branches) — the ones its settings list, even in an unfinished draft."""
    model = BLOCK_CLASSES.get((block_type, kind))
    if model is None:
        return (("out", _(PORT_NAMES["out"])),)
    if model.PORTS_FROM is None:
        return tuple((port, port_label(block_type, kind, port)) for port in model.PORTS)
    items = config.get(model.PORTS_FROM)
    found: dict[str, str] = {}
    for item in items if isinstance(items, list) else []:
        port = item.get("port") if isinstance(item, Mapping) else None
        if isinstance(port, str) and port and port not in found:
            label = item.get("label")
            found[port] = label.strip() if isinstance(label, str) and label.strip() else port
    for port in model.PORTS:  # fixed ones after them: a switch's ``else``
        found.setdefault(port, port_label(block_type, kind, port))
    return tuple(found.items())


def _summary(info: BlockInfo) -> str:
    model = BLOCK_CLASSES[(info.type, info.kind)]
    block = model.model_validate(
        {"id": "new", "type": info.type, "kind": info.kind, "config": info.config}
    )
    return block.summary()


def _fixed_ports(info: BlockInfo) -> list[list[str]]:
    model = BLOCK_CLASSES[(info.type, info.kind)]
    if model.PORTS_FROM is None:
        return []
    return [[port, port_label(info.type, info.kind, port)] for port in model.PORTS]


def palette_json() -> list[dict[str, Any]]:
    """The palette for the canvas script: names, icons and ports of every entry, in the
    current speaker's words."""
    return [
        {
            "type": info.type,
            "kind": info.kind,
            "name": info.name,
            "config": info.config,
            "ports": list(info.ports),
            "portsFrom": BLOCK_CLASSES[(info.type, info.kind)].PORTS_FROM,
            # [[port, label]] that follow the ones its settings list (a switch's else).
            "fixedPorts": _fixed_ports(info),
            "takesInput": info.takes_input,
            "family": family.name,
            "summary": _summary(info),
            "testid": info.testid,
        }
        for family in families()
        for info in family.blocks
    ]
