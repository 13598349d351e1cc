"""Mailgun's and SendGrid's own webhooks: signed payloads are read, forged or stale ones are
refused, and an unconfigured hook says so."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from datetime import UTC, datetime
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.clock import FrozenClock
from tests.api.test_contacts_api import api  # noqa: F401 - the fixture
from tests.fixtures.web import Browser

NOW = datetime(2026, 2, 1, 10, 0, tzinfo=UTC)
MAILGUN_KEY = "key-mailgun-signing-0123456789"
SENDGRID_KEY = ec.generate_private_key(ec.SECP256R1())  # one per run: signing is what is tested


def _sendgrid_public_key() -> str:
    der = SENDGRID_KEY.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(der).decode()


@pytest.fixture
def hooks(api: TestClient, app: FastAPI) -> TestClient:  # noqa: F811
    app.state.clock = FrozenClock(NOW)
    app.state.settings = app.state.settings.model_copy(
        update={"mailgun_signing_key": MAILGUN_KEY, "sendgrid_public_key": _sendgrid_public_key()}
    )
    for email in ("gone@example.com", "angry@example.com"):
        api.post("/api/v1/contacts", json={"email": email, "consent": {"email": True}})
    return api


def _status(client: TestClient, email: str) -> Any:
    found = client.get("/api/v1/contacts", params={"email": email}).json()["contacts"][0]
    return found["email_status"] and found["email_status"]["status"]


# --- Mailgun ---------------------------------------------------------------------------------


def _mailgun(
    event: dict[str, Any], *, at: datetime = NOW, key: str = MAILGUN_KEY
) -> dict[str, Any]:
    timestamp, token = str(int(at.timestamp())), secrets.token_hex(25)  # one per call
    signature = hmac.new(key.encode(), (timestamp + token).encode(), hashlib.sha256).hexdigest()
    return {
        "signature": {"timestamp": timestamp, "token": token, "signature": signature},
        "event-data": event,
    }


MAILGUN_BOUNCE = {
    "event": "failed",
    "severity": "permanent",
    "reason": "bounce",
    "recipient": "gone@example.com",
    "message": {"headers": {"message-id": "20260201100000.1.2@mg.shop.example"}},
    "delivery-status": {"code": 550, "message": "5.1.1 The email account does not exist."},
}


def test_a_signed_mailgun_permanent_failure_marks_the_address_bounced(hooks: TestClient) -> None:
    answer = hooks.post("/hooks/mailgun", json=_mailgun(MAILGUN_BOUNCE))

    assert answer.status_code == 200
    assert answer.json()["bounced"] == 1
    found = hooks.get("/api/v1/contacts", params={"email": "gone@example.com"}).json()
    assert found["contacts"][0]["email_status"]["reason"] == (
        "550 5.1.1 The email account does not exist."
    )


def test_mailgun_temporary_failures_and_refusals_about_us_leave_the_address_alone(
    hooks: TestClient,
) -> None:
    temporary = {**MAILGUN_BOUNCE, "severity": "temporary"}
    policy = {**MAILGUN_BOUNCE, "delivery-status": {"code": 550, "message": "5.7.1 Spam"}}
    for event in (temporary, policy, {"event": "opened", "recipient": "gone@example.com"}):
        assert hooks.post("/hooks/mailgun", json=_mailgun(event)).json()["bounced"] == 0
    assert _status(hooks, "gone@example.com") is None


def test_a_signed_mailgun_complaint_marks_complained(hooks: TestClient) -> None:
    event = {"event": "complained", "recipient": "angry@example.com"}

    assert hooks.post("/hooks/mailgun", json=_mailgun(event)).json()["complained"] == 1
    assert _status(hooks, "angry@example.com") == "complained"


def test_a_forged_or_stale_mailgun_call_is_refused_and_changes_nothing(hooks: TestClient) -> None:
    forged = _mailgun(MAILGUN_BOUNCE, key="someone-elses-key")
    stale = _mailgun(MAILGUN_BOUNCE, at=datetime(2026, 2, 1, 9, 50, tzinfo=UTC))
    ahead = _mailgun(MAILGUN_BOUNCE, at=datetime(2026, 2, 1, 10, 10, tzinfo=UTC))
    odd = _mailgun(MAILGUN_BOUNCE)
    odd["signature"]["signature"] = "é" * 64

    for body in (forged, stale, ahead, odd):
        answer = hooks.post("/hooks/mailgun", json=body)
        assert answer.status_code == 401, body
    assert "replay" in hooks.post("/hooks/mailgun", json=stale).json()["detail"]
    for body in ({"event-data": MAILGUN_BOUNCE}, {"signature": "x"}, [1]):
        assert hooks.post("/hooks/mailgun", json=body).status_code in (400, 401)
    assert _status(hooks, "gone@example.com") is None


def test_a_call_applied_already_is_not_applied_again_even_after_a_reset(
    hooks: TestClient, logged_in: Browser
) -> None:
    mailgun_call = _mailgun(MAILGUN_BOUNCE)
    assert hooks.post("/hooks/mailgun", json=mailgun_call).json()["bounced"] == 1
    gone_id = hooks.get("/api/v1/contacts", params={"email": "gone@example.com"}).json()
    logged_in.post(f"/contacts/{gone_id['contacts'][0]['id']}/email-status/reset")

    again = hooks.post("/hooks/mailgun", json=mailgun_call)

    assert again.status_code == 200
    assert "received already" in again.json()["detail"]
    assert _status(hooks, "gone@example.com") is None


def test_the_clock_moving_past_five_minutes_makes_a_good_call_stale(
    hooks: TestClient, app: FastAPI
) -> None:
    body = _mailgun(MAILGUN_BOUNCE)
    app.state.clock.advance(minutes=6)

    assert hooks.post("/hooks/mailgun", json=body).status_code == 401


# --- SendGrid --------------------------------------------------------------------------------


def _sendgrid(
    events: list[dict[str, Any]], *, at: datetime = NOW, key: Any = None
) -> dict[str, Any]:
    body = json.dumps(events).encode()
    timestamp = str(int(at.timestamp()))
    signature = (key or SENDGRID_KEY).sign(timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
    return {
        "content": body,
        "headers": {
            "Content-Type": "application/json",
            "X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(signature).decode(),
            "X-Twilio-Email-Event-Webhook-Timestamp": timestamp,
        },
    }


SENDGRID_EVENTS = [
    {
        "email": "gone@example.com",
        "event": "bounce",
        "type": "bounce",
        "status": "5.1.1",
        "reason": "550 5.1.1 The email account that you tried to reach does not exist",
        "smtp-id": "<1:send:1@shop.example>",
        "timestamp": 1769940000,
    },
    {"email": "angry@example.com", "event": "spamreport", "timestamp": 1769940000},
    {"email": "gone@example.com", "event": "bounce", "type": "blocked", "status": "4.7.1"},
    {"email": "stranger@example.com", "event": "dropped", "reason": "Bounced Address"},
    {"email": "angry@example.com", "event": "open"},
]


def test_a_signed_sendgrid_batch_marks_bounces_and_spam_reports(hooks: TestClient) -> None:
    answer = hooks.post("/hooks/sendgrid", **_sendgrid(SENDGRID_EVENTS))

    assert answer.status_code == 200
    assert answer.json() == {
        "bounced": 1,
        "complained": 1,
        "delivered": 0,
        "unchanged": 0,
        "ignored": 1,  # stranger@: not a contact
    }
    assert _status(hooks, "gone@example.com") == "bounced"
    assert _status(hooks, "angry@example.com") == "complained"


def test_a_forged_tampered_or_stale_sendgrid_call_is_refused(hooks: TestClient) -> None:
    forged = _sendgrid(SENDGRID_EVENTS, key=ec.generate_private_key(ec.SECP256R1()))
    tampered = _sendgrid(SENDGRID_EVENTS)
    tampered["content"] = tampered["content"].replace(b"gone@", b"lost@")
    stale = _sendgrid(SENDGRID_EVENTS, at=datetime(2026, 2, 1, 9, 0, tzinfo=UTC))
    unsigned = {"json": SENDGRID_EVENTS}
    garbled = _sendgrid(SENDGRID_EVENTS)
    garbled["headers"]["X-Twilio-Email-Event-Webhook-Signature"] = "not base64 at all!"

    for call in (forged, tampered, stale, unsigned, garbled):
        assert hooks.post("/hooks/sendgrid", **call).status_code == 401
    assert _status(hooks, "gone@example.com") is None
    assert hooks.post("/hooks/sendgrid", **_sendgrid({"not": "a list"})).status_code == 400  # type: ignore[arg-type]


def test_a_sendgrid_call_sent_again_with_a_rewritten_signature_is_still_a_replay(
    hooks: TestClient,
) -> None:
    call = _sendgrid(SENDGRID_EVENTS)
    assert hooks.post("/hooks/sendgrid", **call).json()["bounced"] == 1
    # ECDSA signatures are malleable: (r, s) and (r, n - s) both verify.
    r, s = decode_dss_signature(
        base64.b64decode(call["headers"]["X-Twilio-Email-Event-Webhook-Signature"])
    )
    order = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
    twin = base64.b64encode(encode_dss_signature(r, order - s)).decode()
    call["headers"]["X-Twilio-Email-Event-Webhook-Signature"] = twin

    again = hooks.post("/hooks/sendgrid", **call)

    assert again.status_code == 200
    assert "received already" in again.json()["detail"]


def test_hooks_without_their_key_answer_404_in_words(api: TestClient) -> None:  # noqa: F811
    mailgun = api.post("/hooks/mailgun", json=_mailgun(MAILGUN_BOUNCE))
    sendgrid = api.post("/hooks/sendgrid", **_sendgrid(SENDGRID_EVENTS))

    assert (mailgun.status_code, sendgrid.status_code) == (404, 404)
    assert "PARCOURS_MAILGUN_SIGNING_KEY" in mailgun.json()["detail"]
    assert "PARCOURS_SENDGRID_PUBLIC_KEY" in sendgrid.json()["detail"]


def test_a_sendgrid_key_that_is_not_one_answers_503_in_words(
    hooks: TestClient, app: FastAPI
) -> None:
    app.state.settings = app.state.settings.model_copy(update={"sendgrid_public_key": "bm9wZQ=="})

    answer = hooks.post("/hooks/sendgrid", **_sendgrid(SENDGRID_EVENTS))

    assert answer.status_code == 503
    assert "not an ECDSA public key" in answer.json()["detail"]
