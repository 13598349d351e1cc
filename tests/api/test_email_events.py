"""POST /api/v1/email-events: any mail provider reports bounces, complaints and deliveries."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.config import Settings
from app.models import OutboxMessage
from app.services.messaging.email_reports import outbox_key
from app.services.messaging.outbox import OutboxEntry, add_to_outbox
from tests.api.test_contacts_api import api, events_of  # noqa: F401 - the fixture
from worker.delivery.compose import Composer


def _contact(api: TestClient, email: str, **extra: Any) -> dict[str, Any]:  # noqa: F811
    body = {"email": email, "consent": {"email": True}, **extra}
    return dict(api.post("/api/v1/contacts", json=body).json()["contact"])


def _sent(session: Session, settings: Settings, contact_id: int, key: str) -> str:
    """An email Parcours sent to the contact; returns its Message-ID as the mail had it."""
    entry = OutboxEntry(idempotency_key=key, channel="email", contact_id=contact_id, payload={})
    add_to_outbox(session, [entry], datetime(2026, 2, 1, 9, 0, tzinfo=UTC))
    session.commit()
    return Composer(settings).message_id(key)


def test_a_bounce_marks_the_address_with_the_reason_and_an_event(
    api: TestClient,  # noqa: F811
    session: Session,
) -> None:
    lea = _contact(api, "lea@example.com")

    answer = api.post(
        "/api/v1/email-events",
        json={"type": "bounce", "email": "Lea@Example.com", "reason": "550 5.1.1 user unknown"},
    )

    assert answer.status_code == 200
    assert answer.json() == {
        "bounced": 1,
        "complained": 0,
        "delivered": 0,
        "unchanged": 0,
        "ignored": 0,
    }
    read = api.get(f"/api/v1/contacts/{lea['id']}").json()
    assert read["email_status"] == {
        "status": "bounced",
        "reason": "550 5.1.1 user unknown",
        "at": "2026-02-01T10:00:00+00:00",
    }
    bounced = [p for name, p in events_of(session, lea["id"]) if name == "email_bounced"]
    assert bounced == [{"reason": "550 5.1.1 user unknown", "source": "api"}]


def test_the_same_bounce_posted_twice_is_unchanged_and_recorded_once(
    api: TestClient,  # noqa: F811
    session: Session,
) -> None:
    lea = _contact(api, "lea@example.com")
    report = {"type": "bounce", "email": "lea@example.com"}

    api.post("/api/v1/email-events", json=report)
    again = api.post("/api/v1/email-events", json=[report, report]).json()

    assert (again["bounced"], again["unchanged"]) == (0, 2)
    assert [n for n, _ in events_of(session, lea["id"])].count("email_bounced") == 1


def test_a_complaint_marks_complained_and_withdraws_marketing_consent(
    api: TestClient,  # noqa: F811
    session: Session,
) -> None:
    lea = _contact(api, "lea@example.com")

    answer = api.post(
        "/api/v1/email-events", json=[{"type": "complaint", "email": "lea@example.com"}]
    )

    assert answer.json()["complained"] == 1
    read = api.get(f"/api/v1/contacts/{lea['id']}").json()
    assert read["email_status"]["status"] == "complained"
    assert read["consent"]["email"]["granted"] is False
    names = [name for name, _ in events_of(session, lea["id"])]
    assert "email_complained" in names
    changes = [p for n, p in events_of(session, lea["id"]) if n == "consent_changed"]
    assert changes[-1] == {"channel": "email", "from": True, "to": False}


def test_a_bounced_address_stays_bounced_when_a_complaint_comes_in(
    api: TestClient,  # noqa: F811
) -> None:
    lea = _contact(api, "lea@example.com")
    api.post("/api/v1/email-events", json={"type": "bounce", "email": "lea@example.com"})

    answer = api.post(
        "/api/v1/email-events", json={"type": "complaint", "email": "lea@example.com"}
    )

    assert answer.json()["unchanged"] == 1
    read = api.get(f"/api/v1/contacts/{lea['id']}").json()
    assert read["email_status"]["status"] == "bounced"
    assert read["consent"]["email"]["granted"] is False  # the complaint still withdrew it


def test_unknown_addresses_and_message_ids_are_counted_as_ignored_not_refused(
    api: TestClient,  # noqa: F811
) -> None:
    answer = api.post(
        "/api/v1/email-events",
        json=[
            {"type": "bounce", "email": "nobody@example.com"},
            {"type": "complaint", "message_id": "<not-ours@elsewhere.example>"},
            {"type": "delivered", "message_id": "<42:send:1@testserver>"},
        ],
    )

    assert answer.status_code == 200
    assert answer.json()["ignored"] == 3


def test_delivered_is_stamped_on_our_message_found_by_its_message_id(
    api: TestClient,  # noqa: F811
    session: Session,
    settings: Settings,
) -> None:
    lea = _contact(api, "lea@example.com")
    message_id = _sent(session, settings, lea["id"], "7:welcome:1")
    assert outbox_key(message_id) == "7:welcome:1"

    first = api.post("/api/v1/email-events", json={"type": "delivered", "message_id": message_id})
    again = api.post(
        "/api/v1/email-events", json={"type": "delivered", "message_id": message_id.strip("<>")}
    )

    assert (first.json()["delivered"], again.json()["unchanged"]) == (1, 1)
    session.expire_all()
    row = session.exec(
        select(OutboxMessage).where(OutboxMessage.idempotency_key == "7:welcome:1")
    ).one()
    assert row.delivered_at is not None


def test_a_bounce_of_a_message_to_an_old_address_leaves_the_new_one_alone(
    api: TestClient,  # noqa: F811
    session: Session,
    settings: Settings,
) -> None:
    lea = _contact(api, "old@example.com", external_id="L1")
    message_id = _sent(session, settings, lea["id"], "7:welcome:1")
    api.post("/api/v1/contacts", json={"external_id": "L1", "email": "new@example.com"})

    answer = api.post(
        "/api/v1/email-events",
        json={"type": "bounce", "message_id": message_id, "email": "old@example.com"},
    )

    assert answer.json()["unchanged"] == 1
    assert api.get(f"/api/v1/contacts/{lea['id']}").json()["email_status"] is None


def test_a_new_email_clears_the_bounce_of_the_old_one(api: TestClient) -> None:  # noqa: F811
    lea = _contact(api, "old@example.com", external_id="L1")
    api.post("/api/v1/email-events", json={"type": "bounce", "email": "old@example.com"})
    assert api.get(f"/api/v1/contacts/{lea['id']}").json()["email_status"] is not None

    api.post("/api/v1/contacts", json={"external_id": "L1", "email": "new@example.com"})

    read = api.get(f"/api/v1/contacts/{lea['id']}").json()
    assert (read["email_status"], read["email_soft_bounces"]) == (None, 0)


def test_a_bad_event_in_a_list_refuses_them_all_with_the_reasons(
    api: TestClient,  # noqa: F811
) -> None:
    lea = _contact(api, "lea@example.com")

    answer = api.post(
        "/api/v1/email-events",
        json=[
            {"type": "bounce", "email": "lea@example.com"},
            {"type": "opened", "email": "lea@example.com"},
            {"type": "bounce"},
            {"type": "bounce", "email": "not an email"},
            {"type": "delivered", "email": "lea@example.com"},
        ],
    )

    assert answer.status_code == 422
    text = str(answer.json()["detail"])
    assert "give the email or the message_id" in text
    assert "not a valid email address" in text
    assert "a delivered event needs the message_id" in text
    assert api.get(f"/api/v1/contacts/{lea['id']}").json()["email_status"] is None


def test_odd_bodies_get_a_4xx(api: TestClient) -> None:  # noqa: F811
    for body in ([], {}, 3, "bounce", [{"type": "bounce", "email": "a@b.ex", "extra": 1}]):
        assert api.post("/api/v1/email-events", json=body).status_code == 422
    too_many = [{"type": "bounce", "email": "a@b.ex"}] * 1001
    assert api.post("/api/v1/email-events", json=too_many).status_code == 422
    assert (
        api.post(
            "/api/v1/email-events", content=b"{", headers={"Content-Type": "application/json"}
        ).status_code
        == 422
    )


def test_message_ids_that_cannot_be_ours_are_ignored_whatever_they_hold(
    api: TestClient,  # noqa: F811
) -> None:
    odd = ["<%00@testserver>", "%ZZ@x", "@testserver", "<>", "x" * 998, "<a%0Ab@testserver>"]

    answer = api.post(
        "/api/v1/email-events", json=[{"type": "bounce", "message_id": m} for m in odd]
    )

    assert answer.status_code == 200
    assert answer.json()["ignored"] == len(odd)


def test_the_api_needs_a_key(client: TestClient) -> None:
    assert (
        client.post("/api/v1/email-events", json={"type": "bounce", "email": "a@b.ex"}).status_code
        == 401
    )


def test_clients_may_not_send_bounce_or_complaint_events_of_their_own(
    api: TestClient,  # noqa: F811
) -> None:
    for name in ("email_bounced", "Email_Complained"):
        sent = api.post("/api/v1/events", json={"name": name, "contact": {"email": "a@b.ex"}})
        assert sent.status_code == 422
