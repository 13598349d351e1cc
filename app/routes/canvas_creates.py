"""What a block's panel can create without leaving the canvas: a new list, typed in place.

(A new message goes through the message editor and comes back: see ``return_to`` there.)
The answer is JSON for the panel's script, which adds the list to the choices and selects it.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import JSONResponse
from sqlalchemy import func
from sqlmodel import select

from app.deps import SessionDep, get_current_user
from app.models import ContactList
from app.services.contacts import lists as list_service
from app.services.errors import ServiceError

router = APIRouter(dependencies=[Depends(get_current_user)], include_in_schema=False)


@router.post("/scenarios/blocks/new-list", response_model=None)
def new_list(
    request: Request, session: SessionDep, name: Annotated[str, Form(max_length=300)] = ""
) -> JSONResponse:
    """Creates a list from its name alone (the key is derived from it): 201 with its key and
    name, or the reason in the reader's words (422). A name a list already has chooses that
    list (200): two lists called the same would be told apart only by their keys."""
    same = session.exec(
        select(ContactList).where(func.lower(ContactList.name) == func.lower(name.strip()))
    ).first()
    if same is not None and name.strip():
        return JSONResponse({"key": same.key, "name": same.name, "existing": True})
    try:
        created = list_service.create_list(
            session, key="", name=name, now=request.app.state.clock.now()
        )
    except ServiceError as exc:
        return JSONResponse({"detail": exc.message}, status_code=exc.status_code)
    return JSONResponse({"key": created.key, "name": created.name}, status_code=201)
