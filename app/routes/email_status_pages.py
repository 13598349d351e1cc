"""A marketer resets a contact's bounced or complained address (DESIGN §12.4)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from app.deps import SessionDep, get_current_user
from app.inputs import Int32
from app.services.messaging import bounces

router = APIRouter(dependencies=[Depends(get_current_user)], include_in_schema=False)


@router.post("/contacts/{contact_id}/email-status/reset")
def reset_email_status(request: Request, session: SessionDep, contact_id: Int32) -> Response:
    """Emails go to the address again; marketing still needs consent (a complaint withdrew it)."""
    bounces.reset(session, contact_id, request.app.state.clock.now())
    return Response(status_code=303, headers={"Location": f"/contacts/{contact_id}?reset=1"})
