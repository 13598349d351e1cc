"""Mail providers' own webhook formats, each checked by its signature and read as reports
(``email_reports.Report``): Mailgun (``mailgun.py``) and SendGrid (``sendgrid.py``)."""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime
from typing import Any

from app.services.errors import ServiceError

log = logging.getLogger("parcours.hooks")

# A signed call older (or further ahead) than this is refused: it may be a replay.
MAX_AGE_SECONDS = 300


class Refused(ServiceError):
    """A webhook call whose signature or time does not hold: 401, nothing applied."""

    status_code = 401


def fresh(timestamp: str, now: datetime) -> None:
    """Raises Refused unless ``timestamp`` (Unix seconds) is within MAX_AGE_SECONDS of now."""
    if not timestamp.isascii() or not timestamp.isdigit() or len(timestamp) > 12:
        raise Refused("The webhook's timestamp is not a number of seconds.")
    if abs(now.timestamp() - int(timestamp)) > MAX_AGE_SECONDS:
        raise Refused(
            "The webhook was signed more than 5 minutes away from now: it is refused, "
            "as it may be a replay."
        )


def text(value: object, limit: int = 998) -> str | None:
    """A string field of a provider's event, or None when it is missing or not text."""
    return value.strip()[:limit] or None if isinstance(value, str) else None


# Calls already applied, by what was signed (not by the signature: an ECDSA signature can be
# rewritten into another valid one), kept as long as their timestamp is fresh.
SEEN_PREFIX = "parcours:hooks:seen:"


def _seen_key(provider: str, signed: bytes) -> str:
    return f"{SEEN_PREFIX}{provider}:{hashlib.sha256(signed).hexdigest()}"


async def seen_before(redis: Any, provider: str, signed: bytes) -> bool:
    """Whether this very call was applied already (a replay, or the provider trying again
    after a lost answer). Without Redis, nobody is remembered: reports are idempotent."""
    try:
        return bool(await redis.exists(_seen_key(provider, signed)))
    except Exception:
        log.warning("could not read the %s webhook replay memory", provider, exc_info=True)
        return False


async def remember(redis: Any, provider: str, signed: bytes) -> None:
    """Run once the call's reports are committed, so a call that failed can be sent again."""
    try:
        await redis.set(_seen_key(provider, signed), 1, ex=2 * MAX_AGE_SECONDS)
    except Exception:
        log.warning("could not write the %s webhook replay memory", provider, exc_info=True)
