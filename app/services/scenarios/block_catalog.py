"""What the canvas palette offers: every block kind with its plain name, icon and family.

Names are what a marketer reads ("Wait", "Send an email"); the ``type``/``kind`` pair is what
the saved document holds (DESIGN §3). A preset is a palette entry that starts a kind with some
settings filled in ("When someone buys" is an event trigger on ``purchase``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from app.graph import BLOCK_CLASSES


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
        return BLOCK_CLASSES[(self.type, self.kind)].PORTS

    @property
    def port_labels(self) -> tuple[tuple[str, str], ...]:
        return tuple((port, port_label(self.type, self.kind, port)) for port in self.ports)

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


def _b(block_type: str, kind: str, name: str, icon: str, hint: str, **extra: Any) -> BlockInfo:
    return BlockInfo(block_type, kind, name, icon, hint, **extra)


FAMILIES: tuple[Family, ...] = (
    Family(
        "trigger",
        "Triggers",
        "What starts the journey",
        (
            _b(
                "trigger",
                "event",
                "When someone buys",
                "cart",
                "A purchase comes in from your shop",
                config={"event": "purchase"},
                preset="purchase",
            ),
            _b("trigger", "event", "When something happens", "event", "Any event: signup, visit…"),
            _b("trigger", "list_added", "When added to a list", "list-plus", "Joins a list"),
            _b(
                "trigger", "list_removed", "When removed from a list", "list-minus", "Leaves a list"
            ),
            _b("trigger", "contact_created", "When a contact is new", "user-plus", "First seen"),
            _b("trigger", "date_anniversary", "On their birthday", "cake", "Or any yearly date"),
            _b("trigger", "attribute_changed", "When a detail changes", "edit", "E.g. city, plan"),
            _b("trigger", "score_reached", "When the score reaches", "star", "A hot lead"),
            _b(
                "trigger",
                "segment_entered",
                "When entering a segment",
                "segment",
                "Starts to match",
            ),
            _b("trigger", "manual", "When enrolled by hand", "hand", "From a list or the API"),
        ),
    ),
    Family(
        "condition",
        "Conditions",
        "Split the path in two",
        (_b("condition", "if", "If / else", "branch", "Yes or no, by what you know"),),
    ),
    Family(
        "delay",
        "Delays",
        "Let time pass",
        (
            _b("delay", "wait", "Wait", "clock", "Minutes, hours, days or weeks"),
            _b("delay", "wait_until", "Wait until a time", "calendar", "E.g. Monday 09:00"),
            _b("delay", "wait_for_event", "Wait for an event", "hourglass", "Or give up after…"),
        ),
    ),
    Family(
        "action",
        "Actions",
        "Do something for the contact",
        (
            _b("action", "send_email", "Send an email", "mail", "One of your email templates"),
            _b("action", "send_sms", "Send an SMS", "sms", "One of your SMS templates"),
            _b("action", "add_to_list", "Add to a list", "list-plus", "E.g. loyal customers"),
            _b("action", "remove_from_list", "Remove from a list", "list-minus", "Tidy lists"),
            _b("action", "update_attribute", "Update a detail", "edit", "Set or add to a value"),
            _b("action", "add_score", "Add score points", "star", "Or remove some"),
            _b("action", "notify_team", "Alert the team", "bell", "An email to a colleague"),
            _b("action", "webhook", "Call a webhook", "webhook", "Tell another tool"),
            _b("action", "exit", "End the journey", "flag", "The contact leaves here"),
        ),
    ),
)

# One entry per kind (the generic one, not a preset): how cards and panels name a block.
BLOCKS: dict[tuple[str, str], BlockInfo] = {
    (info.type, info.kind): info for family in FAMILIES for info in family.blocks if not info.preset
}
PORT_NAMES = {"out": "Next", "yes": "Yes", "no": "No"}


def block_info(block_type: str, kind: str) -> BlockInfo | None:
    return BLOCKS.get((block_type, kind))


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
                return info
    return block_info(block_type, kind)


def port_label(block_type: str, kind: str, port: str) -> str:
    """How a port reads on the card; a wait-for-event says what yes and no mean."""
    if kind == "wait_for_event":
        return {"yes": "It came", "no": "Timed out"}.get(port, port)
    return PORT_NAMES.get(port, port)


def _summary(info: BlockInfo) -> str:
    model = BLOCK_CLASSES[(info.type, info.kind)]
    block = model.model_validate(
        {"id": "new", "type": info.type, "kind": info.kind, "config": info.config}
    )
    return block.summary()


def palette_json() -> list[dict[str, Any]]:
    """The palette for the canvas script: names, icons and ports of every entry."""
    return [
        {
            "type": info.type,
            "kind": info.kind,
            "name": info.name,
            "config": info.config,
            "ports": list(info.ports),
            "takesInput": info.takes_input,
            "family": family.name,
            "summary": _summary(info),
            "testid": info.testid,
        }
        for family in FAMILIES
        for info in family.blocks
    ]
