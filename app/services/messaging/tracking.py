"""Open and click tracking: signed links in emails that come back as events.

Every tracked link carries a token signed with the app's secret (itsdangerous), holding the
send it belongs to and, for a click, the destination. Only a valid signature is followed, so
``/t/c/...`` can never be used to send people anywhere else (no open redirect), and a changed
letter anywhere in the token makes it worthless.

The first open of an email and the first click on each of its links are recorded as the
events ``email_opened`` / ``email_clicked`` (properties: ``message``, ``scenario_id``,
``node_id``, and ``url`` for clicks), usable by triggers, conditions and waits like any other.
Repeats (an image proxy reloading the pixel, a second click) are not counted again.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import literal, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, SQLModel

from app.db import UTCDateTime

OPEN_SALT = "parcours.track.open"
CLICK_SALT = "parcours.track.click"
EVENTS = SQLModel.metadata.tables["events"]
CONTACTS = SQLModel.metadata.tables["contacts"]
# href="..." or href='...' inside an <a> tag.
_LINK = re.compile(r"""(<a\b[^>]*?\bhref\s*=\s*)(["'])(.*?)\2""", re.IGNORECASE | re.DOTALL)
_BODY_END = re.compile(r"</body\s*>", re.IGNORECASE)
# Our own links that are not tracked (see ``Tracker.track_html``).
SECRET_LINK_PATHS = ("/f/confirm/",)


@dataclass(frozen=True)
class SendRef:
    """Which send a tracked link belongs to."""

    key: str  # the outbox idempotency key
    contact_id: int
    message: str | None = None
    scenario_id: int | None = None
    node_id: str | None = None

    def pack(self) -> list[Any]:
        return [self.key, self.contact_id, self.message, self.scenario_id, self.node_id]

    @classmethod
    def unpack(cls, data: Any) -> SendRef | None:
        if not isinstance(data, list) or len(data) != 5 or not isinstance(data[1], int):
            return None
        return cls(str(data[0]), data[1], data[2], data[3], data[4])

    def properties(self) -> dict[str, Any]:
        return {"message": self.message, "scenario_id": self.scenario_id, "node_id": self.node_id}


class Tracker:
    def __init__(self, base_url: str, secret: str) -> None:
        self.base_url = base_url.rstrip("/")
        self._open = URLSafeSerializer(secret, salt=OPEN_SALT)
        self._click = URLSafeSerializer(secret, salt=CLICK_SALT)

    def open_url(self, ref: SendRef) -> str:
        return f"{self.base_url}/t/o/{self._open.dumps(ref.pack())}"

    def click_url(self, ref: SendRef, url: str) -> str:
        return f"{self.base_url}/t/c/{self._click.dumps([*ref.pack(), url])}"

    def read_open(self, token: str) -> SendRef | None:
        try:
            return SendRef.unpack(self._open.loads(token))
        except BadSignature:
            return None

    def read_click(self, token: str) -> tuple[SendRef, str] | None:
        try:
            data = self._click.loads(token)
        except BadSignature:
            return None
        if not isinstance(data, list) or len(data) != 6 or not _is_web_url(data[5]):
            return None
        ref = SendRef.unpack(data[:5])
        return (ref, data[5]) if ref is not None else None

    def track_html(self, html: str, ref: SendRef, *, keep: tuple[str, ...] = ()) -> str:
        """Links through the click redirect (except ``keep``: the unsubscribe link), plus the
        open pixel at the end of the body."""

        # A link holding a one-time secret (a signup confirmation, /f/confirm/<token>) is
        # left as it is: its click would keep the secret in the contact's history.
        secret = tuple(self.base_url + path for path in SECRET_LINK_PATHS)

        def rewrite(match: re.Match[str]) -> str:
            url = _unescape_attr(match.group(3)).strip()
            if not _is_web_url(url) or url in keep or url.startswith(secret):
                return match.group(0)
            tracked = self.click_url(ref, url)
            return f"{match.group(1)}{match.group(2)}{tracked}{match.group(2)}"

        html = _LINK.sub(rewrite, html)
        pixel = (
            f'<img src="{self.open_url(ref)}" width="1" height="1" alt="" '
            'style="display:block;width:1px;height:1px;border:0" />'
        )
        found = list(_BODY_END.finditer(html))
        if not found:
            return html + pixel
        at = found[-1].start()
        return html[:at] + pixel + html[at:]


def _unescape_attr(value: str) -> str:
    return value.replace("&amp;", "&").replace("&quot;", '"').replace("&#39;", "'")


def _is_web_url(url: Any) -> bool:
    if not isinstance(url, str):
        return False
    parts = urlsplit(url)
    return parts.scheme in {"http", "https"} and bool(parts.netloc)


def record_tracking_event(
    session: Session, name: str, ref: SendRef, now: datetime, *, url: str | None = None
) -> bool:
    """Stores the event once per send (and link); False when it was already there or the
    contact no longer exists. One statement, and a write from the start: it runs in GET
    requests, whose SQLite transactions begin deferred."""
    properties = ref.properties()
    uid = f"{name}:{ref.key}"
    if url is not None:
        properties["url"] = url
        uid += ":" + hashlib.sha256(url.encode()).hexdigest()[:16]
    row = select(
        literal(uid[:100]).label("uid"),
        CONTACTS.c.id.label("contact_id"),
        literal(name).label("name"),
        literal(properties, type_=EVENTS.c.properties.type).label("properties"),
        literal(now, type_=UTCDateTime()).label("occurred_at"),
        literal(now, type_=UTCDateTime()).label("received_at"),
    ).where(CONTACTS.c.id == ref.contact_id)
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = (
        insert(EVENTS)
        .from_select(["uid", "contact_id", "name", "properties", "occurred_at", "received_at"], row)
        .on_conflict_do_nothing(index_elements=["uid"])
        .returning(EVENTS.c.id)
    )
    return session.execute(statement).first() is not None
