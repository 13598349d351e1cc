"""Site keys for the tracking snippet: public stand-ins for API keys.

A site key is safe to paste into a web page: it can only *send* events and identify the
visitor through ``POST /api/track`` — never read anything. It is derived from an API key
(HMAC with the app's secret), so there is nothing extra to store, and revoking the API key
revokes its site key at once.
"""

from __future__ import annotations

import hashlib
import hmac

from sqlalchemy import select
from sqlmodel import Session, col

from app.config import Settings
from app.models import ApiKey

PREFIX = "site_"


def site_key_for(key: ApiKey, secret: str) -> str:
    digest = hmac.new(secret.encode(), f"site:{key.key_hash}".encode(), hashlib.sha256)
    return PREFIX + digest.hexdigest()[:32]


def site_keys(session: Session, settings: Settings) -> list[tuple[ApiKey, str]]:
    secret = settings.resolved_secret_key()
    active = session.scalars(
        select(ApiKey).where(col(ApiKey.revoked_at).is_(None)).order_by(col(ApiKey.id))
    )
    return [(key, site_key_for(key, secret)) for key in active]


def find_by_site_key(session: Session, settings: Settings, site_key: str) -> ApiKey | None:
    if not site_key.startswith(PREFIX):
        return None
    for key, candidate in site_keys(session, settings):
        if hmac.compare_digest(candidate, site_key):
            return key
    return None
