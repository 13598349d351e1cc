"""Segments over the API: dynamic lists defined by a condition (DESIGN §4)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Query, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field

from app.deps import SessionDep
from app.inputs import Int32
from app.models import Segment
from app.services.contacts import segments as service
from app.services.errors import Invalid

router = APIRouter(tags=["segments"])


class SegmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str = Field(
        default="",
        examples=["lyon-buyers"],
        description="Stable: scenarios use it. Left out, it is derived from the name",
    )
    name: str = Field(examples=["Buyers in Lyon"])
    description: str = ""
    condition: dict[str, Any] = Field(
        examples=[
            {
                "all": [
                    {"attribute": "city", "op": "eq", "value": "Lyon"},
                    {"event": "purchase", "op": "count_gte", "value": 1, "within_days": 90},
                ]
            }
        ]
    )


class SegmentUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    description: str = ""
    condition: dict[str, Any]


class SegmentRename(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(examples=["Loyal buyers in Lyon"])
    description: str | None = Field(default=None, description="Left out: unchanged")


class ConditionIn(BaseModel):
    condition: dict[str, Any]


class SegmentOut(BaseModel):
    key: str
    name: str
    description: str
    condition: dict[str, Any]
    summary: str = Field(description="The condition in words")
    members: int | None = None
    broken_reason: str | None = Field(
        default=None,
        description="Why the condition cannot be evaluated (scenarios skip it); null when it can",
    )
    created_at: datetime
    updated_at: datetime


def _out(
    segment: Segment, members: int | None = None, broken_reason: str | None = None
) -> SegmentOut:
    return SegmentOut(
        key=segment.key,
        name=segment.name,
        description=segment.description,
        condition=segment.condition,
        summary=service.describe(segment),
        members=members,
        broken_reason=broken_reason or segment.broken_reason,
        created_at=segment.created_at,
        updated_at=segment.updated_at,
    )


@router.post("/segments", status_code=status.HTTP_201_CREATED, response_model=SegmentOut)
def create_segment(request: Request, body: SegmentIn, session: SessionDep) -> SegmentOut:
    segment = service.save_segment(
        session,
        key=body.key,
        name=body.name,
        description=body.description,
        condition=body.condition,
        now=request.app.state.clock.now(),
    )
    return _out(segment)


@router.get("/segments", response_model=list[SegmentOut], summary="Every segment (no counts)")
def all_segments(session: SessionDep) -> list[SegmentOut]:
    return [_out(segment) for segment in service.all_segments(session)]


@router.post("/segments/count", summary="How many contacts a condition matches now")
def count_condition(request: Request, body: ConditionIn, session: SessionDep) -> dict[str, int]:
    condition = service.read_condition(body.condition)
    return {"members": service.count_condition(session, condition, request.app.state.clock.now())}


@router.get("/segments/{key}", response_model=SegmentOut, summary="A segment and its count")
def read_segment(request: Request, key: str, session: SessionDep) -> SegmentOut:
    segment = service.get_segment(session, key)
    try:
        members = service.count_segment(session, segment, request.app.state.clock.now())
    except Invalid as broken:  # the segment is still shown, with why it cannot be counted
        return _out(segment, broken_reason=broken.message)
    return _out(segment, members)


@router.put("/segments/{key}", response_model=SegmentOut)
def update_segment(
    request: Request, key: str, body: SegmentUpdate, session: SessionDep
) -> SegmentOut:
    segment = service.save_segment(
        session,
        key=key,
        name=body.name,
        description=body.description,
        condition=body.condition,
        now=request.app.state.clock.now(),
        existing=service.get_segment(session, key),
    )
    return _out(segment)


@router.patch(
    "/segments/{key}",
    response_model=SegmentOut,
    summary="Rename a segment (key and condition stay)",
)
def rename_segment(
    request: Request, key: str, body: SegmentRename, session: SessionDep
) -> SegmentOut:
    segment = service.rename_segment(
        session,
        service.get_segment(session, key),
        name=body.name,
        description=body.description,
        now=request.app.state.clock.now(),
    )
    return _out(segment)


@router.delete(
    "/segments/{key}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={409: {"description": "A live scenario enters on it; nothing was deleted."}},
)
def delete_segment(key: str, session: SessionDep) -> Response:
    service.delete_segment(session, key)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/segments/{key}/contacts", summary="Members of a segment, newest first")
def segment_members(
    request: Request,
    key: str,
    session: SessionDep,
    before: Int32 | None = Query(default=None, description="Cursor: the last id of the page"),
    limit: int = Query(default=100, ge=1, le=1000),
) -> dict[str, Any]:
    segment = service.get_segment(session, key)
    ids = service.segment_member_ids_page(
        session, segment, request.app.state.clock.now(), before=before, limit=limit
    )
    return {"segment": key, "contact_ids": ids, "next": ids[-1] if len(ids) == limit else None}
