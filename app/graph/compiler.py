"""Turning a valid document into the plan the worker runs (stored with each published version).

The plan is plain JSON (``Plan.model_dump(mode="json")`` reads back with ``model_validate``)
and deterministic: the same scenario gives the same plan whatever the order of blocks and links
on the canvas, and moving a block changes nothing (positions are dropped).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from app.graph.blocks import Block
from app.graph.document import SCHEMA_VERSION, Document, ExitOnEvent, Settings
from app.graph.flow_blocks import WaitForEventBlock
from app.graph.issues import Issue, has_errors
from app.graph.model_base import GraphModel
from app.graph.trigger_blocks import (
    AttributeChangedTrigger,
    ContactCreatedTrigger,
    DateAnniversaryTrigger,
    EventTrigger,
    ListAddedTrigger,
    ListRemovedTrigger,
    ManualTrigger,
    ScoreReachedTrigger,
    SegmentEnteredTrigger,
)
from app.graph.validate import KnownRefs, validate
from app.graph.wait_condition_blocks import WaitForConditionBlock, wakes_on

IdsByKey = dict[str, list[str]]


class TriggerIndex(GraphModel):
    """Which trigger blocks fire on what, so matching an event is a dictionary look-up."""

    events: IdsByKey = Field(default_factory=dict)  # event name -> trigger ids
    list_added: IdsByKey = Field(default_factory=dict)  # list key -> trigger ids
    list_removed: IdsByKey = Field(default_factory=dict)
    contact_created: list[str] = Field(default_factory=list)
    date_anniversary: IdsByKey = Field(default_factory=dict)  # date attribute -> trigger ids
    attribute_changed: IdsByKey = Field(default_factory=dict)  # attribute -> trigger ids
    score_reached: list[str] = Field(default_factory=list)  # thresholds are on the blocks
    segment_entered: IdsByKey = Field(default_factory=dict)  # segment key -> trigger ids
    manual: list[str] = Field(default_factory=list)


class Plan(GraphModel):
    schema_version: Literal[1] = Field(default=SCHEMA_VERSION, alias="schema")
    blocks: dict[str, Block]
    # block id -> port -> next block id; a port that is absent ends the journey there.
    successors: dict[str, dict[str, str]]
    triggers: TriggerIndex
    # event name -> wait-for-event blocks that this event can resume.
    waits_for_events: IdsByKey = Field(default_factory=dict)
    # event name -> wait-for-condition blocks whose condition this event may change.
    waits_for_changes: IdsByKey = Field(default_factory=dict)
    settings: Settings

    def block(self, block_id: str) -> Block:
        return self.blocks[block_id]

    def successor(self, block_id: str, port: str = "out") -> str | None:
        return self.successors.get(block_id, {}).get(port)

    def events_heard(self) -> set[str]:
        """The names of the events this plan reacts to: its triggers, waits and goal."""
        index = self.triggers
        heard = set(index.events) | set(self.waits_for_events) | set(self.waits_for_changes)
        for name, fires in (
            ("contact_created", index.contact_created),
            ("list_added", index.list_added),
            ("list_removed", index.list_removed),
            ("attribute_changed", index.attribute_changed),
            ("score_changed", index.score_reached),
        ):
            if fires:
                heard.add(name)
        if isinstance(self.settings.exit_when, ExitOnEvent):
            heard.add(self.settings.exit_when.event)
        return heard


class CompileError(Exception):
    """The document has errors; ``issues`` lists all of them (and the warnings)."""

    def __init__(self, issues: list[Issue]) -> None:
        self.issues = issues
        errors = [issue.message for issue in issues if issue.is_error]
        super().__init__(f"the scenario has {len(errors)} error(s): " + "; ".join(errors))


def compile_document(document: Document, known: KnownRefs | None = None) -> Plan:
    """The plan of a document; raises :class:`CompileError` if validation finds an error."""
    issues = validate(document, known)
    if has_errors(issues):
        raise CompileError(issues)
    ordered = sorted(document.nodes, key=lambda block: block.id)
    successors: dict[str, dict[str, str]] = {}
    for edge in sorted(document.edges, key=lambda edge: (edge.source, edge.port)):
        successors.setdefault(edge.source, {})[edge.port] = edge.target
    waits: IdsByKey = {}
    for block in ordered:
        if isinstance(block, WaitForEventBlock) and block.config.event:
            waits.setdefault(block.config.event, []).append(block.id)
    changes: IdsByKey = {}
    for block in ordered:
        if isinstance(block, WaitForConditionBlock) and block.config.condition is not None:
            for name in sorted({name for name, _ in wakes_on(block.config.condition)}):
                changes.setdefault(name, []).append(block.id)
    return Plan(
        blocks={block.id: block.model_copy(update={"x": 0.0, "y": 0.0}) for block in ordered},
        successors=successors,
        triggers=_index_triggers(ordered),
        waits_for_events=_sorted_keys(waits),
        waits_for_changes=_sorted_keys(changes),
        settings=document.settings,
    )


def _index_triggers(blocks: list[Block]) -> TriggerIndex:
    by_key: dict[str, IdsByKey] = {}
    plain: dict[str, list[str]] = {"contact_created": [], "score_reached": [], "manual": []}

    def add(group: str, key: str | None, block_id: str) -> None:
        if key:
            by_key.setdefault(group, {}).setdefault(key, []).append(block_id)

    for block in blocks:  # sorted by id, so every list below is sorted
        if isinstance(block, EventTrigger):
            add("events", block.config.event, block.id)
        elif isinstance(block, ListAddedTrigger):
            add("list_added", block.config.list_key, block.id)
        elif isinstance(block, ListRemovedTrigger):
            add("list_removed", block.config.list_key, block.id)
        elif isinstance(block, DateAnniversaryTrigger):
            add("date_anniversary", block.config.attribute, block.id)
        elif isinstance(block, AttributeChangedTrigger):
            add("attribute_changed", block.config.attribute, block.id)
        elif isinstance(block, SegmentEnteredTrigger):
            add("segment_entered", block.config.segment, block.id)
        elif isinstance(block, ContactCreatedTrigger | ScoreReachedTrigger | ManualTrigger):
            plain[block.kind].append(block.id)
    return TriggerIndex(
        events=_sorted_keys(by_key.get("events", {})),
        list_added=_sorted_keys(by_key.get("list_added", {})),
        list_removed=_sorted_keys(by_key.get("list_removed", {})),
        contact_created=plain["contact_created"],
        date_anniversary=_sorted_keys(by_key.get("date_anniversary", {})),
        attribute_changed=_sorted_keys(by_key.get("attribute_changed", {})),
        score_reached=plain["score_reached"],
        segment_entered=_sorted_keys(by_key.get("segment_entered", {})),
        manual=plain["manual"],
    )


def _sorted_keys(ids_by_key: IdsByKey) -> IdsByKey:
    return {key: ids_by_key[key] for key in sorted(ids_by_key)}
