"""Scenario graph document v1 (DESIGN §3): blocks, the links between them, and settings."""

from __future__ import annotations

from typing import Annotated, Any, Literal, Self

from pydantic import Discriminator, Field, Tag, model_validator

from app.graph.block_base import BlockBase
from app.graph.blocks import Block
from app.graph.conditions import Condition
from app.graph.model_base import GraphModel

SCHEMA_VERSION: Literal[1] = 1
Reentry = Literal["once", "after_exit", "always"]
# Whether the account's quiet hours hold this scenario's marketing messages (CONTRACTS-2 §D):
# "ignore" suits what cannot wait for the morning (a price alert), never a newsletter.
QuietHoursChoice = Literal["follow", "ignore"]


class Edge(GraphModel):
    """A link from one block's output port to another block; no ``port`` means ``out``."""

    source: str = Field(alias="from", min_length=1)
    port: str = Field(default="out", min_length=1)
    target: str = Field(alias="to", min_length=1)


class ExitOnEvent(GraphModel):
    """``{"event": NAME}``: the contact leaves as soon as this event comes in (the goal)."""

    event: str = Field(min_length=1)


def _exit_tag(raw: Any) -> str:
    # ``{"event": X}`` alone is the goal shorthand; with an ``op`` it is an event condition.
    if isinstance(raw, ExitOnEvent) or (isinstance(raw, dict) and set(raw) == {"event"}):
        return "ExitOnEvent"
    return "Condition"


ExitWhen = Annotated[
    Annotated[ExitOnEvent, Tag("ExitOnEvent")] | Annotated[Condition, Tag("Condition")],
    Discriminator(_exit_tag),
]


class Settings(GraphModel):
    reentry: Reentry = "once"
    # Minimum time between two entries of the same contact (after_exit / always).
    cooldown_seconds: int | None = None
    exit_when: ExitWhen | None = None
    quiet_hours: QuietHoursChoice = "follow"


class Document(GraphModel):
    """A whole scenario graph. Block ids are unique; everything else is checked by validate."""

    schema_version: Literal[1] = Field(default=SCHEMA_VERSION, alias="schema")
    nodes: list[Block] = Field(default_factory=list)
    edges: list[Edge] = Field(default_factory=list)
    settings: Settings = Field(default_factory=Settings)

    @model_validator(mode="after")
    def _ids_are_unique(self) -> Self:
        seen: set[str] = set()
        for node in self.nodes:
            if node.id in seen:
                raise ValueError(f"two blocks share the id '{node.id}'")
            seen.add(node.id)
        return self

    def blocks_by_id(self) -> dict[str, BlockBase]:
        return {node.id: node for node in self.nodes}

    def triggers(self) -> list[BlockBase]:
        return [node for node in self.nodes if not node.takes_input]
