"""Public HTTP API v1: JSON, authenticated with an API key (DESIGN §6)."""

from fastapi import APIRouter, Depends

from app.deps import get_api_key
from app.routes.api import (
    account,
    contacts,
    email_events,
    forms,
    lists,
    scenarios,
    segments,
    sending_rules,
    simulations,
    topics,
    versions,
)
from app.routes.api import messages as message_api
from app.routes.api.intake import rate_limit

# Every route gets the key's budget here, so a new one cannot forget it (the event routes,
# mounted apart, have their own: app.routes.api.events).
router = APIRouter(prefix="/api/v1", dependencies=[Depends(get_api_key), Depends(rate_limit)])
router.include_router(account.router)
router.include_router(contacts.router)
router.include_router(lists.router)
router.include_router(segments.router)
router.include_router(scenarios.router)
router.include_router(simulations.router)
router.include_router(versions.router)
router.include_router(message_api.router)
router.include_router(sending_rules.router)
router.include_router(email_events.router)
router.include_router(forms.router)
router.include_router(topics.router)
