"""The key offered under a name field while a list, segment, message or form is being created."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query
from sqlalchemy.orm import Mapped
from sqlmodel import col

from app.deps import SessionDep, get_current_user
from app.models import ContactList, MessageTemplate, Segment, SignupForm
from app.services.keys import free_key

router = APIRouter(dependencies=[Depends(get_current_user)], include_in_schema=False)


def key_column(kind: str) -> Mapped[str]:
    columns = {
        "list": col(ContactList.key),
        "segment": col(Segment.key),
        "message": col(MessageTemplate.key),
        "form": col(SignupForm.key),
    }
    return columns.get(kind, columns["list"])


@router.get("/keys/suggest")
def suggest_key(
    session: SessionDep,
    kind: str = "list",
    name: str = Query(default="", max_length=200),
) -> dict[str, str]:
    """``{"key": "clients-fideles"}`` for the name "Clients fidèles", with ``-2``, ``-3``…
    when a list (segment, message) already has it; empty while the name is."""
    return {"key": free_key(session, key_column(kind), name) if name.strip() else ""}
