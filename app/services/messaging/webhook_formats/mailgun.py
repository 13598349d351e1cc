"""Mailgun's webhooks (JSON, "webhooks v3"): signed, then read as bounce/complaint/delivered.

Each call carries ``signature: {timestamp, token, signature}``, the signature being the
HMAC-SHA256 of ``timestamp + token`` with the domain's webhook signing key
(``PARCOURS_MAILGUN_SIGNING_KEY``), hex. Events read: ``failed`` with ``severity:
permanent`` (a bounce — unless its reply says it is about us, ``refusals.py``, or Mailgun
dropped it for an unsubscribe; ``suppress-complaint`` is a complaint), ``complained``,
``delivered``. ``failed`` with ``severity: temporary`` is left to Mailgun, which retries and
reports ``permanent`` if it gives up. Anything else is read as nothing.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime
from typing import Any

from app.services.messaging.email_reports import Report
from app.services.messaging.refusals import bounce_of
from app.services.messaging.webhook_formats import Refused, fresh, text

NOT_A_BOUNCE = {"suppress-unsubscribe"}


def verify(signing_key: str, body: dict[str, Any], now: datetime) -> None:
    """Raises Refused unless the call was signed with ``signing_key`` within 5 minutes."""
    signature = body.get("signature")
    if not isinstance(signature, dict):
        raise Refused(
            "The webhook has no signature: Mailgun sends signature.timestamp, token and signature."
        )
    timestamp, token, given = (signature.get(k) for k in ("timestamp", "token", "signature"))
    if not (isinstance(timestamp, str) and isinstance(token, str) and isinstance(given, str)):
        raise Refused("The webhook's signature needs a timestamp, a token and a signature.")
    signed = (timestamp + token).encode()
    expected = hmac.new(signing_key.strip().encode(), signed, hashlib.sha256).hexdigest()
    # Bytes, not text: compare_digest refuses non-ASCII text (a 500 for anyone who sent it).
    if not hmac.compare_digest(expected.encode(), given.lower().encode()):
        raise Refused("The webhook's signature does not match the signing key.")
    fresh(timestamp, now)


def signed_part(body: dict[str, Any]) -> bytes:
    """What the signature covers (once verified): the call's identity for replays."""
    signature = body["signature"]
    return (str(signature["timestamp"]) + str(signature["token"])).encode()


def reports(body: dict[str, Any]) -> list[Report]:
    event = body.get("event-data")
    if not isinstance(event, dict):
        return []
    kind = event.get("event")
    email = text(event.get("recipient"), 320)
    headers = _part(_part(event, "message"), "headers")
    message_id = text(headers.get("message-id"))
    if email is not None:
        email = email.lower()
    if kind == "delivered":
        return [Report("delivered", email, message_id)] if message_id else []
    if kind == "complained":
        return [Report("complaint", email, message_id, "Marked as spam (Mailgun)")]
    if kind != "failed" or event.get("severity") != "permanent":
        return []
    reason = event.get("reason")
    if reason == "suppress-complaint":
        return [Report("complaint", email, message_id, "Marked as spam earlier (Mailgun)")]
    if reason in NOT_A_BOUNCE:
        return []
    status = _part(event, "delivery-status")
    code = status.get("code")
    words = text(status.get("message")) or text(status.get("description")) or ""
    if isinstance(code, int) and not isinstance(code, bool) and reason != "suppress-bounce":
        about_address = bounce_of(code, words, "rcpt") is not None
        if not about_address:
            return []  # a refusal about us (policy, our reputation): the address is fine
    said = " ".join(str(part) for part in (code, words) if part not in (None, ""))
    return [Report("bounce", email, message_id, said or "Bounced (Mailgun)")]


def _part(found: dict[str, Any], name: str) -> dict[str, Any]:
    value = found.get(name)
    return value if isinstance(value, dict) else {}
