"""The account's sending rules over the API (CONTRACTS-2 §D): quiet hours, caps, priorities."""

from __future__ import annotations

from fastapi import APIRouter

from app.deps import SessionDep
from app.services.messaging import sending_rules as service
from app.services.messaging.sending_rules import SendingRulesIn, SendingRulesOut

router = APIRouter(tags=["sending rules"])


@router.get("/sending-rules", response_model=SendingRulesOut)
def get_rules(session: SessionDep) -> SendingRulesOut:
    return service.read(session)


@router.put("/sending-rules", response_model=SendingRulesOut)
def put_rules(body: SendingRulesIn, session: SessionDep) -> SendingRulesOut:
    """Replaces every rule. Marketing messages in quiet hours (the contact's time zone) wait
    for their end; over a cap they wait until the window frees, and are not sent after 3
    days of waiting; transactional messages and scenarios ignore both."""
    return service.write(session, body)
