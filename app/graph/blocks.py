"""Every block kind of DESIGN §3, and the one table that maps ``type.kind`` to its model.

To find a kind's settings: ``BLOCK_CLASSES[("delay", "wait")]`` is ``WaitBlock`` and its
``config`` field names ``WaitConfig``.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Discriminator, Tag, TypeAdapter

from app.graph.action_blocks import (
    AddScoreAction,
    AddToListAction,
    ExitAction,
    NotifyTeamAction,
    RemoveFromListAction,
    SendEmailAction,
    SendSmsAction,
    UpdateAttributeAction,
    WebhookAction,
)
from app.graph.block_base import BlockBase
from app.graph.flow_blocks import ConditionBlock, WaitBlock, WaitForEventBlock, WaitUntilBlock
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
from app.i18n.text import N_

# English for pydantic; the parser says it in the speaker's language.
UNKNOWN_BLOCK = N_("a block needs a known 'type' and 'kind'")


def _block_tag(raw: Any) -> str | None:
    if isinstance(raw, BlockBase):
        return f"{raw.type}.{raw.kind}"
    if isinstance(raw, dict):
        block_type, kind = raw.get("type"), raw.get("kind")
        if isinstance(block_type, str) and isinstance(kind, str):
            return f"{block_type}.{kind}"
    return None


Block = Annotated[
    Annotated[EventTrigger, Tag("trigger.event")]
    | Annotated[ListAddedTrigger, Tag("trigger.list_added")]
    | Annotated[ListRemovedTrigger, Tag("trigger.list_removed")]
    | Annotated[ContactCreatedTrigger, Tag("trigger.contact_created")]
    | Annotated[DateAnniversaryTrigger, Tag("trigger.date_anniversary")]
    | Annotated[AttributeChangedTrigger, Tag("trigger.attribute_changed")]
    | Annotated[ScoreReachedTrigger, Tag("trigger.score_reached")]
    | Annotated[SegmentEnteredTrigger, Tag("trigger.segment_entered")]
    | Annotated[ManualTrigger, Tag("trigger.manual")]
    | Annotated[ConditionBlock, Tag("condition.if")]
    | Annotated[WaitBlock, Tag("delay.wait")]
    | Annotated[WaitUntilBlock, Tag("delay.wait_until")]
    | Annotated[WaitForEventBlock, Tag("delay.wait_for_event")]
    | Annotated[SendEmailAction, Tag("action.send_email")]
    | Annotated[SendSmsAction, Tag("action.send_sms")]
    | Annotated[AddToListAction, Tag("action.add_to_list")]
    | Annotated[RemoveFromListAction, Tag("action.remove_from_list")]
    | Annotated[UpdateAttributeAction, Tag("action.update_attribute")]
    | Annotated[AddScoreAction, Tag("action.add_score")]
    | Annotated[NotifyTeamAction, Tag("action.notify_team")]
    | Annotated[WebhookAction, Tag("action.webhook")]
    | Annotated[ExitAction, Tag("action.exit")],
    Discriminator(
        _block_tag,
        custom_error_type="unknown_block",
        custom_error_message=UNKNOWN_BLOCK,
    ),
]

BLOCK_ADAPTER: TypeAdapter[Block] = TypeAdapter(Block)


def _pinned(model: type[BlockBase], field: str) -> str:
    """The single value of a ``Literal[...]`` field: each block class pins its type and kind."""
    values: tuple[object, ...] = getattr(model.model_fields[field].annotation, "__args__", ())
    return str(values[0])


BLOCK_CLASSES: dict[tuple[str, str], type[BlockBase]] = {
    (_pinned(model, "type"), _pinned(model, "kind")): model
    for model in (
        EventTrigger,
        ListAddedTrigger,
        ListRemovedTrigger,
        ContactCreatedTrigger,
        DateAnniversaryTrigger,
        AttributeChangedTrigger,
        ScoreReachedTrigger,
        SegmentEnteredTrigger,
        ManualTrigger,
        ConditionBlock,
        WaitBlock,
        WaitUntilBlock,
        WaitForEventBlock,
        SendEmailAction,
        SendSmsAction,
        AddToListAction,
        RemoveFromListAction,
        UpdateAttributeAction,
        AddScoreAction,
        NotifyTeamAction,
        WebhookAction,
        ExitAction,
    )
}
BLOCK_TYPES = ("trigger", "condition", "delay", "action")
KINDS_BY_TYPE: dict[str, tuple[str, ...]] = {
    block_type: tuple(kind for (t, kind) in BLOCK_CLASSES if t == block_type)
    for block_type in BLOCK_TYPES
}


def block_class(block_type: str, kind: str) -> type[BlockBase] | None:
    return BLOCK_CLASSES.get((block_type, kind))
