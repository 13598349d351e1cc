"""Static lists over the API, by stable key (DESIGN §6)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, BackgroundTasks, Query, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field

from app.deps import SessionDep
from app.inputs import Int32
from app.routes.api.intake import wake_engine
from app.services.contacts import lists as service
from app.services.contacts.contacts import CONTACTS, contact_ids_by
from app.services.contacts.fields import FieldProblem, normalize_email
from app.services.errors import Invalid

router = APIRouter(tags=["lists"])
MAX_MEMBERS_PER_CALL = 10_000


class ListIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str = Field(
        default="",
        examples=["newsletter"],
        description="Stable: scenarios and your code use it. Left out, it is derived from the "
        "name (`Clients fidèles` → `clients-fideles`, then `clients-fideles-2`…)",
    )
    name: str = Field(examples=["Newsletter"])
    description: str = ""


class ListRename(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(examples=["Monthly newsletter"])
    description: str | None = Field(default=None, description="Left out: unchanged")


class ListOut(BaseModel):
    key: str
    name: str
    description: str
    members: int
    created_at: datetime


class Members(BaseModel):
    model_config = ConfigDict(extra="forbid")

    contact_ids: list[Int32] = Field(default_factory=list)
    emails: list[str] = Field(default_factory=list)


class MembersChanged(BaseModel):
    list: str
    changed: int = Field(description="Memberships really added (or removed) by this call")


@router.post("/lists", status_code=status.HTTP_201_CREATED, response_model=ListOut)
def create_list(request: Request, body: ListIn, session: SessionDep) -> ListOut:
    created = service.create_list(
        session,
        key=body.key,
        name=body.name,
        description=body.description,
        now=request.app.state.clock.now(),
    )
    return ListOut(
        key=created.key,
        name=created.name,
        description=created.description,
        members=0,
        created_at=created.created_at,
    )


@router.get("/lists", response_model=list[ListOut])
def all_lists(session: SessionDep) -> list[ListOut]:
    return [
        ListOut(
            key=row.list.key,
            name=row.list.name,
            description=row.list.description,
            members=row.members,
            created_at=row.list.created_at,
        )
        for row in service.lists_with_counts(session)
    ]


@router.patch("/lists/{key}", response_model=ListOut, summary="Rename a list (its key stays)")
def rename_list(key: str, body: ListRename, session: SessionDep) -> ListOut:
    found = service.rename_list(
        session, service.get_list(session, key), name=body.name, description=body.description
    )
    assert found.id is not None
    return ListOut(
        key=found.key,
        name=found.name,
        description=found.description,
        members=service.member_count(session, found.id),
        created_at=found.created_at,
    )


@router.delete(
    "/lists/{key}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a list and its memberships",
    responses={409: {"description": "A live scenario uses the list; nothing was deleted."}},
)
def delete_list(key: str, session: SessionDep) -> Response:
    service.delete_list(session, service.get_list(session, key))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/lists/{key}/contacts", summary="Members of a list, newest first")
def list_members(
    key: str,
    session: SessionDep,
    before: Int32 | None = Query(default=None, description="Cursor: the last id of the page"),
    limit: int = Query(default=100, ge=1, le=1000),
) -> dict[str, Any]:
    found = service.get_list(session, key)
    assert found.id is not None
    ids = service.member_ids_page(session, found.id, before=before, limit=limit)
    emails = dict(
        (cid, email)
        for cid, email in session.execute(
            CONTACTS.select()
            .with_only_columns(CONTACTS.c.id, CONTACTS.c.email)
            .where(CONTACTS.c.id.in_(ids))
        ).all()
    )
    return {
        "list": key,
        "contacts": [{"id": cid, "email": emails.get(cid)} for cid in ids],
        "next": ids[-1] if len(ids) == limit else None,
    }


@router.post("/lists/{key}/contacts", response_model=MembersChanged, summary="Add contacts")
def add_members(
    request: Request,
    key: str,
    body: Members,
    session: SessionDep,
    background: BackgroundTasks,
) -> MembersChanged:
    found = service.get_list(session, key)
    ids = _contact_ids(session, body)
    now = request.app.state.clock.now()
    added = service.add_members(session, [found], ids, now=now, source="api")
    background.add_task(wake_engine, request.app)
    return MembersChanged(list=key, changed=added)


@router.delete("/lists/{key}/contacts", response_model=MembersChanged, summary="Remove contacts")
def remove_members(
    request: Request,
    key: str,
    body: Members,
    session: SessionDep,
    background: BackgroundTasks,
) -> MembersChanged:
    found = service.get_list(session, key)
    ids = _contact_ids(session, body)
    removed = service.remove_members(session, [found], ids, now=request.app.state.clock.now())
    background.add_task(wake_engine, request.app)
    return MembersChanged(list=key, changed=removed)


def _contact_ids(session: SessionDep, body: Members) -> list[int]:
    """The contacts named by id or email; every one must exist, or nothing changes."""
    if len(body.contact_ids) + len(body.emails) > MAX_MEMBERS_PER_CALL:
        raise Invalid(f"At most {MAX_MEMBERS_PER_CALL:,} contacts per call.")
    if not body.contact_ids and not body.emails:
        raise Invalid("Name the contacts: contact_ids and/or emails.")
    problems = []
    emails = []
    for raw in body.emails:
        try:
            email = normalize_email(raw)
        except FieldProblem as problem:
            problems.append(str(problem))
            continue
        if email:
            emails.append(email)
    by_email = contact_ids_by(session, CONTACTS.c.email, set(emails))
    problems += [f"no contact has the email {e}" for e in sorted(set(emails) - set(by_email))]
    known = set(contact_ids_by(session, CONTACTS.c.id, set(body.contact_ids)))
    problems += [f"there is no contact with id {i}" for i in sorted(set(body.contact_ids) - known)]
    if problems:
        raise Invalid("Nothing was changed: " + "; ".join(problems[:20]) + ".")
    return sorted(known | set(by_email.values()))
