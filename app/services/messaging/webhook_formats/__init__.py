"""Mail providers' own webhook formats, each checked by its signature and read as reports
(``email_reports.Report``): Mailgun (``mailgun.py``) and SendGrid (``sendgrid.py``)."""

from __future__ import annotations

from datetime import datetime

from app.services.errors import ServiceError

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
