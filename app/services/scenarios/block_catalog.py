"""What the canvas palette offers: every block kind with its plain name, icon and family.

Names are what a marketer reads ("Wait", "Send an email"); the ``type``/``kind`` pair is what
the saved document holds (DESIGN §3). A preset is a palette entry that starts a kind with some
settings filled in ("When someone buys" is an event trigger on ``purchase``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from app.graph import BLOCK_CLASSES
from app.i18n import N_, _


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


# The tables hold English, marked with N_ for the catalog; what a person reads comes from the
# functions after them (families, block_info, shown_as, port_label), in the speaker's words.


FAMILIES: tuple[Family, ...] = (
    Family(
        "trigger",
        N_("Triggers"),
        N_("What starts the journey"),
        (
            _b(
                "trigger",
                "event",
                N_("When someone buys"),
                "cart",
                N_("A purchase comes in from your shop"),
                config={"event": "purchase"},
                preset="purchase",
            ),
            _b(
                "trigger",
                "event",
                N_("When something happens"),
                "event",
                N_("Any event: signup, visit…"),
            ),
            _b(
                "trigger", "list_added", N_("When added to a list"), "list-plus", N_("Joins a list")
            ),
            _b(
                "trigger",
                "list_removed",
                N_("When removed from a list"),
                "list-minus",
                N_("Leaves a list"),
            ),
            _b(
                "trigger",
                "contact_created",
                N_("When a contact is new"),
                "user-plus",
                N_("First seen"),
            ),
            _b(
                "trigger",
                "date_anniversary",
                N_("On their birthday"),
                "cake",
                N_("Or any yearly date"),
            ),
            _b(
                "trigger",
                "attribute_changed",
                N_("When a detail changes"),
                "edit",
                N_("E.g. city, plan"),
            ),
            _b("trigger", "score_reached", N_("When the score reaches"), "star", N_("A hot lead")),
            _b(
                "trigger",
                "segment_entered",
                N_("When entering a segment"),
                "segment",
                N_("Starts to match"),
            ),
            _b(
                "trigger",
                "manual",
                N_("When enrolled by hand"),
                "hand",
                N_("From a list or the API"),
            ),
        ),
    ),
    Family(
        "condition",
        N_("Conditions"),
        N_("Split the path in two"),
        (_b("condition", "if", N_("If / else"), "branch", N_("Yes or no, by what you know")),),
    ),
    Family(
        "delay",
        N_("Delays"),
        N_("Let time pass"),
        (
            _b("delay", "wait", N_("Wait"), "clock", N_("Minutes, hours, days or weeks")),
            _b(
                "delay",
                "wait_until",
                N_("Wait until a time"),
                "calendar",
                N_("E.g. Monday 09:00"),
            ),
            _b(
                "delay",
                "wait_for_event",
                N_("Wait for an event"),
                "hourglass",
                N_("Or give up after…"),
            ),
        ),
    ),
    Family(
        "action",
        N_("Actions"),
        N_("Do something for the contact"),
        (
            _b(
                "action",
                "send_email",
                N_("Send an email"),
                "mail",
                N_("One of your email templates"),
            ),
            _b("action", "send_sms", N_("Send an SMS"), "sms", N_("One of your SMS templates")),
            _b(
                "action",
                "add_to_list",
                N_("Add to a list"),
                "list-plus",
                N_("E.g. loyal customers"),
            ),
            _b(
                "action",
                "remove_from_list",
                N_("Remove from a list"),
                "list-minus",
                N_("Tidy lists"),
            ),
            _b(
                "action",
                "update_attribute",
                N_("Update a detail"),
                "edit",
                N_("Set or add to a value"),
            ),
            _b("action", "add_score", N_("Add score points"), "star", N_("Or remove some")),
            _b(
                "action", "notify_team", N_("Alert the team"), "bell", N_("An email to a colleague")
            ),
            _b("action", "webhook", N_("Call a webhook"), "webhook", N_("Tell another tool")),
            _b("action", "exit", N_("End the journey"), "flag", N_("The contact leaves here")),
        ),
    ),
)

# One entry per kind (the generic one, not a preset): how cards and panels name a block.
BLOCKS: dict[tuple[str, str], BlockInfo] = {
    (info.type, info.kind): info for family in FAMILIES for info in family.blocks if not info.preset
}
PORT_NAMES = {"out": N_("Next"), "yes": N_("Yes"), "no": N_("No")}
WAIT_FOR_EVENT_PORTS = {"yes": N_("It came"), "no": N_("Timed out")}


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
    names = WAIT_FOR_EVENT_PORTS if kind == "wait_for_event" else PORT_NAMES
    return _(names[port]) if port in names else port


def _summary(info: BlockInfo) -> str:
    model = BLOCK_CLASSES[(info.type, info.kind)]
    block = model.model_validate(
        {"id": "new", "type": info.type, "kind": info.kind, "config": info.config}
    )
    return block.summary()


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
            "takesInput": info.takes_input,
            "family": family.name,
            "summary": _summary(info),
            "testid": info.testid,
        }
        for family in families()
        for info in family.blocks
    ]
