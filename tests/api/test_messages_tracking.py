"""Signed open and click links record events; the unsubscribe link works in one click."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.config import Settings
from app.models import Contact, Event, OutboxMessage
from app.services.messaging.outbox import OutboxEntry, add_to_outbox
from app.services.messaging.tracking import SendRef, Tracker
from app.services.messaging.unsubscribe import UnsubscribeLinks
from tests.worker.delivery_kit import add_contact, add_template


@pytest.fixture
def tracker(settings: Settings) -> Tracker:
    return Tracker(settings.base_url, settings.resolved_secret_key())


@pytest.fixture
def links(settings: Settings) -> UnsubscribeLinks:
    return UnsubscribeLinks(settings.base_url, settings.resolved_secret_key())


def path(url: str) -> str:
    return url.removeprefix("http://testserver")


def events(session: Session, name: str) -> list[Event]:
    return list(session.exec(select(Event).where(Event.name == name)).all())


def test_the_open_pixel_records_one_email_opened_event(
    client: TestClient, session: Session, tracker: Tracker
) -> None:
    lea = add_contact(session)
    session.commit()
    ref = SendRef("12:welcome:1", lea.id, "welcome", 3, "welcome")  # type: ignore[arg-type]

    first = client.get(path(tracker.open_url(ref)))
    again = client.get(path(tracker.open_url(ref)))

    assert first.status_code == again.status_code == 200
    assert first.headers["content-type"] == "image/gif"
    [opened] = events(session, "email_opened")
    assert opened.contact_id == lea.id
    assert opened.properties == {"message": "welcome", "scenario_id": 3, "node_id": "welcome"}
    assert opened.processed_at is None, "waiting for the trigger matcher"


def test_a_click_records_the_event_and_goes_to_the_signed_address(
    client: TestClient, session: Session, tracker: Tracker
) -> None:
    lea = add_contact(session)
    session.commit()
    ref = SendRef("12:welcome:1", lea.id, "welcome", 3, "welcome")  # type: ignore[arg-type]
    url = "https://shop.example/new?utm_source=parcours&x=1"

    response = client.get(path(tracker.click_url(ref, url)))

    assert response.status_code == 302
    assert response.headers["location"] == url
    [clicked] = events(session, "email_clicked")
    assert clicked.properties["url"] == url
    assert clicked.properties["message"] == "welcome"


def test_a_tampered_link_is_refused_and_records_nothing(
    client: TestClient, session: Session, tracker: Tracker, settings: Settings
) -> None:
    lea = add_contact(session)
    session.commit()
    ref = SendRef("1:a:1", lea.id, "welcome", None, None)  # type: ignore[arg-type]
    good = path(tracker.click_url(ref, "https://shop.example/"))
    evil = Tracker(settings.base_url, "another-secret-" + "z" * 40)

    tampered = [
        good[:-3] + ("AAA" if not good.endswith("AAA") else "BBB"),
        path(evil.click_url(ref, "https://evil.example/")),
        "/t/c/not-a-token",
        path(tracker.open_url(ref)).replace("/t/o/", "/t/c/"),  # an open token is no click
    ]
    for url in tampered:
        response = client.get(url)
        assert response.status_code == 404, url
        assert "location" not in response.headers
    assert client.get("/t/o/forged").status_code == 404
    assert events(session, "email_clicked") == []
    assert events(session, "email_opened") == []


def test_the_unsubscribe_page_asks_first_then_unsubscribes_and_cancels_pending_marketing(
    client: TestClient, session: Session, links: UnsubscribeLinks
) -> None:
    lea = add_contact(session)
    add_template(session, "promo")
    add_template(session, "receipt", purpose="transactional")
    now = client.app.state.clock.now()  # type: ignore[attr-defined]
    add_to_outbox(
        session,
        [
            OutboxEntry("1:promo:1", "email", lea.id, {"message": "promo"}),
            OutboxEntry("1:receipt:2", "email", lea.id, {"message": "receipt"}),
        ],
        now - timedelta(minutes=1),
    )
    session.commit()
    url = path(links.url(lea.id, "1:welcome:1"))

    page = client.get(url)
    assert page.status_code == 200
    assert "Unsubscribe from our emails?" in page.text
    session.refresh(lea)
    assert lea.email_consent, "opening the link alone changes nothing"

    done = client.post(url)

    assert done.status_code == 200
    assert "You are unsubscribed" in done.text
    session.refresh(lea)
    assert (lea.email_consent, lea.email_consent_source) == (False, "unsubscribe link")
    assert lea.email_consent_at is not None
    statuses = {
        row.idempotency_key: row.status for row in session.exec(select(OutboxMessage)).all()
    }
    assert statuses == {"1:promo:1": "cancelled", "1:receipt:2": "pending"}
    assert len(events(session, "email_unsubscribed")) == 1


def test_one_click_unsubscribe_works_without_the_page(
    client: TestClient, session: Session, links: UnsubscribeLinks
) -> None:
    lea = add_contact(session)
    session.commit()

    response = client.post(
        path(links.url(lea.id, "1:welcome:1")), data={"List-Unsubscribe": "One-Click"}
    )

    assert response.status_code == 200
    assert response.text == "Unsubscribed."
    contact = session.get(Contact, lea.id)
    session.refresh(contact)
    assert contact is not None
    assert contact.email_consent is False


def test_a_tampered_unsubscribe_link_changes_nothing(
    client: TestClient, session: Session, links: UnsubscribeLinks
) -> None:
    lea = add_contact(session)
    session.commit()
    url = path(links.url(lea.id, "k"))
    forged = url.replace(url.split(".")[-1], "forgedsignature")

    assert client.get(forged).status_code == 404
    assert client.post(forged).status_code == 404
    assert client.post(forged, data={"List-Unsubscribe": "One-Click"}).status_code == 404
    session.refresh(lea)
    assert lea.email_consent is True


def test_a_test_email_s_unsubscribe_link_unsubscribes_nobody(
    client: TestClient, links: UnsubscribeLinks
) -> None:
    response = client.post(path(links.url(None, "test:abc")))
    assert response.status_code == 200
    assert "nobody was unsubscribed" in response.text
