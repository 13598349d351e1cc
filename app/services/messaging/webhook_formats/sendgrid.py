"""SendGrid's Event Webhook (signed): a JSON list of events read as bounce/complaint/delivered.

SendGrid signs ``timestamp + body`` (the raw bytes) with ECDSA P-256 over SHA-256 and sends
the signature base64-encoded in ``X-Twilio-Email-Event-Webhook-Signature`` and the time (Unix
seconds) in ``X-Twilio-Email-Event-Webhook-Timestamp``; the verification key is the one
SendGrid shows under Mail Settings → Signed Event Webhook (``PARCOURS_SENDGRID_PUBLIC_KEY``:
base64 DER, or PEM). Events read: ``bounce`` (``type: blocked`` is SendGrid saying the
receiving server refused *us* for now: read as nothing, as is a bounce whose status is about
us, ``refusals.py``), ``dropped`` for a "Bounced Address" (a bounce) or a "Spam Reporting
Address" (a complaint), ``spamreport``, ``delivered``. The Message-ID is ``smtp-id``.
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from functools import lru_cache
from typing import Any

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from app.services.messaging.email_reports import Report
from app.services.messaging.refusals import bounce_of
from app.services.messaging.webhook_formats import Refused, fresh, text

SIGNATURE_HEADER = "X-Twilio-Email-Event-Webhook-Signature"
TIMESTAMP_HEADER = "X-Twilio-Email-Event-Webhook-Timestamp"
MAX_SIGNATURE = 200  # a DER P-256 signature is at most 72 bytes


class KeyProblem(ValueError):
    """The configured key is not an ECDSA public key."""


@lru_cache(maxsize=4)
def public_key(configured: str) -> ec.EllipticCurvePublicKey:
    value = configured.strip()
    try:
        if value.startswith("-----BEGIN"):
            key = serialization.load_pem_public_key(value.encode())
        else:
            key = serialization.load_der_public_key(base64.b64decode(value, validate=True))
    except (ValueError, binascii.Error, TypeError, UnsupportedAlgorithm) as exc:
        raise KeyProblem(str(exc)) from None
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise KeyProblem("not an elliptic-curve key")
    return key


def verify(
    key: ec.EllipticCurvePublicKey,
    signature: str | None,
    timestamp: str | None,
    body: bytes,
    now: datetime,
) -> None:
    """Raises Refused unless ``body`` was signed by the key's owner within 5 minutes."""
    if not signature or not timestamp:
        raise Refused(
            f"The webhook is not signed: SendGrid sends {SIGNATURE_HEADER} and {TIMESTAMP_HEADER}."
        )
    try:
        raw = base64.b64decode(signature[:MAX_SIGNATURE], validate=True)
        key.verify(raw, timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, ValueError, binascii.Error, UnicodeEncodeError):
        raise Refused("The webhook's signature does not match the SendGrid public key.") from None
    fresh(timestamp, now)


def reports(events: list[Any]) -> list[Report]:
    found: list[Report] = []
    for event in events:
        if isinstance(event, dict) and (report := _report(event)) is not None:
            found.append(report)
    return found


def _report(event: dict[str, Any]) -> Report | None:
    kind = event.get("event")
    email = text(event.get("email"), 320)
    email = email.lower() if email else None
    message_id = text(event.get("smtp-id"))
    reason = text(event.get("reason"), 2000) or ""
    if kind == "delivered":
        return Report("delivered", email, message_id) if message_id else None
    if kind == "spamreport":
        return Report("complaint", email, message_id, "Marked as spam (SendGrid)")
    if kind == "dropped":
        if reason == "Bounced Address":
            return Report("bounce", email, message_id, "Bounced earlier (SendGrid)")
        if reason == "Spam Reporting Address":
            return Report("complaint", email, message_id, "Marked as spam earlier (SendGrid)")
        return None
    if kind != "bounce" or event.get("type") == "blocked":
        return None
    status = text(event.get("status"), 20) or ""
    code = 550 if status.startswith("5") else 450
    if status and bounce_of(code, status, "rcpt") is None:
        return None  # a refusal about us (policy, our content): the address is fine
    return Report("bounce", email, message_id, reason or "Bounced (SendGrid)")
