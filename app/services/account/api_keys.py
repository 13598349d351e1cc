"""API keys for shops and websites: created once, stored as a hash, revocable."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session, col, select

from app.clock import utcnow
from app.i18n import _
from app.models import ApiKey
from app.security import api_key_display_prefix, hash_api_key, new_api_key
from app.services.errors import Invalid, NotFound


def create_api_key(
    session: Session, *, name: str, created_by_id: int | None = None
) -> tuple[ApiKey, str]:
    """Returns the stored key and the plain key, which is never retrievable again."""
    name = name.strip()
    if not name:
        raise Invalid(_("Give the key a name, e.g. the shop or site that will use it."))
    plain = new_api_key()
    key = ApiKey(
        name=name[:200],
        prefix=api_key_display_prefix(plain),
        key_hash=hash_api_key(plain),
        created_by_id=created_by_id,
    )
    session.add(key)
    session.flush()
    return key, plain


def find_active_key(session: Session, plain: str) -> ApiKey | None:
    key = session.exec(select(ApiKey).where(ApiKey.key_hash == hash_api_key(plain))).first()
    if key is None or key.revoked_at is not None:
        return None
    return key


def list_api_keys(session: Session) -> Sequence[ApiKey]:
    return session.exec(select(ApiKey).order_by(col(ApiKey.created_at).desc())).all()


def revoke_api_key(session: Session, key_id: int) -> ApiKey:
    key = session.get(ApiKey, key_id)
    if key is None:
        raise NotFound(_("This API key does not exist."))
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        session.add(key)
    return key
