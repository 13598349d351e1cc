"""What the OpenAPI document shows of Segment's messages (the routes read bodies themselves:
``app/services/capture/segment_messages.py`` is the contract; this only describes it)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class SegmentMessage(BaseModel):
    model_config = ConfigDict(extra="allow")

    type: Literal["identify", "track", "page", "screen", "group", "alias"] | None = Field(
        default=None, description="In a batch; a single call's path says it."
    )
    messageId: str | None = Field(default=None, description="Stored once, however often sent.")
    userId: str | None = Field(default=None, description="Your id: the contact's external id.")
    anonymousId: str | None = Field(default=None, description="Its events wait for a link.")
    event: str | None = Field(default=None, description="track: the event's name.")
    name: str | None = Field(default=None, description="page / screen: its name.")
    properties: dict[str, Any] | None = None
    traits: dict[str, Any] | None = Field(default=None, description="identify / group.")
    groupId: str | None = None
    previousId: str | None = Field(default=None, description="alias: linked to userId.")
    timestamp: datetime | None = None
    context: dict[str, Any] | None = Field(default=None, description="Kept with the event.")


class SegmentBatch(BaseModel):
    model_config = ConfigDict(extra="allow")

    batch: list[SegmentMessage] = Field(max_length=1000)
    context: dict[str, Any] | None = None
