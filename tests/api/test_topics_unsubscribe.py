"""The unsubscribe page as a preference center (DESIGN §12.3): leave only the email's topic,
choose topics, or leave everything; RFC 8058 one-click still leaves everything."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.config import Settings
from app.models import Contact, ContactTopic, Event, OutboxMessage, Topic
from app.services.messaging.outbox import OutboxEntry, add_to_outbox
from app.services.messaging.unsubscribe import UnsubscribeLinks
from tests.worker.delivery_kit import add_contact, add_template


@pytest.fixture
def links(settings: Settings) -> UnsubscribeLinks:
    return UnsubscribeLinks(settings.base_url, settings.resolved_secret_key())


@pytest.fixture
def lea(session: Session, client: TestClient) -> Contact:
    """Léa, with two topics, an offer and a newsletter about to leave, and a receipt."""
    session.add(Topic(key="offers", name="Offers", description="Sales twice a month"))
    session.add(Topic(key="newsletter", name="Newsletter"))
    session.flush()
    contact = add_contact(session)
    add_template(session, "sale", topic="offers")
    add_template(session, "news", topic="newsletter")
    add_template(session, "receipt", purpose="transactional")
    now = client.app.state.clock.now()  # type: ignore[attr-defined]
    add_to_outbox(
        session,
        [
            OutboxEntry("1:sale:1", "email", contact.id, {"message": "sale"}),
            OutboxEntry("1:news:1", "email", contact.id, {"message": "news"}),
            OutboxEntry("1:receipt:1", "email", contact.id, {"message": "receipt"}),
        ],
        now - timedelta(minutes=1),
    )
    session.commit()
    return contact


def path(url: str) -> str:
    return url.removeprefix("http://testserver")


def left(session: Session, contact: Contact) -> dict[str, bool]:
    rows = session.exec(
        select(Topic.key, ContactTopic.subscribed)
        .join(Topic, Topic.id == ContactTopic.topic_id)  # type: ignore[arg-type]
        .where(ContactTopic.contact_id == contact.id)
    ).all()
    return {key: subscribed for key, subscribed in rows}


def statuses(session: Session) -> dict[str, tuple[str, str | None]]:
    session.expire_all()
    return {
        r.idempotency_key: (r.status, r.last_error) for r in session.exec(select(OutboxMessage))
    }


def test_the_page_offers_to_leave_only_the_email_s_topic_preselected(
    client: TestClient, lea: Contact, links: UnsubscribeLinks
) -> None:
    page = client.get(path(links.url(lea.id, "1:sale:1", "offers")))

    assert page.status_code == 200
    assert "Your email preferences" in page.text
    assert "Leave only “Offers”" in page.text
    assert "Sales twice a month" in page.text
    assert 'value="offers" data-testid="topic-offers" >' in page.text, "unticked: to leave"
    assert 'value="newsletter" data-testid="topic-newsletter" checked>' in page.text
    assert "Unsubscribe from everything" in page.text


def test_leaving_one_topic_keeps_general_consent_and_stops_only_that_topic_s_pending_email(
    client: TestClient, session: Session, lea: Contact, links: UnsubscribeLinks
) -> None:
    url = path(links.url(lea.id, "1:sale:1", "offers"))

    done = client.post(url, data={"action": "topic"})

    assert done.status_code == 200
    assert "You will no longer receive “Offers”." in done.text
    assert "The email that was about to leave has been stopped." in done.text
    session.refresh(lea)
    assert lea.email_consent is True
    assert left(session, lea) == {"offers": False}, "the other topics were never chosen: in"
    assert statuses(session) == {
        "1:sale:1": ("cancelled", "Not sent: the contact left the topic “Offers”."),
        "1:news:1": ("pending", None),
        "1:receipt:1": ("pending", None),
    }
    assert session.exec(select(Event).where(Event.name == "email_unsubscribed")).all() == []
    again = client.post(url, data={"action": "topic"})
    assert "You will no longer receive" not in again.text, "nothing left twice"
    page = client.get(url)
    assert "You already left “Offers”" in page.text
    assert 'data-testid="leave-topic"' not in page.text


def test_choosing_topics_keeps_the_ticked_ones_and_leaves_the_others(
    client: TestClient, session: Session, lea: Contact, links: UnsubscribeLinks
) -> None:
    url = path(links.url(lea.id, "1:welcome:1"))
    client.post(url, data={"action": "choose", "keep": ["offers"]})
    first = left(session, lea)

    client.post(url, data={"action": "choose", "keep": ["offers", "newsletter", "nonsense"]})

    assert first == {"offers": True, "newsletter": False}
    session.expire_all()
    assert left(session, lea) == {"offers": True, "newsletter": True}
    assert statuses(session)["1:news:1"][0] == "cancelled"
    assert statuses(session)["1:sale:1"][0] == "pending"


def test_unsubscribing_from_everything_withdraws_consent_as_before(
    client: TestClient, session: Session, lea: Contact, links: UnsubscribeLinks
) -> None:
    done = client.post(path(links.url(lea.id, "1:sale:1", "offers")))

    assert "You are unsubscribed" in done.text
    session.refresh(lea)
    assert (lea.email_consent, lea.email_consent_source) == (False, "unsubscribe link")
    assert len(session.exec(select(Event).where(Event.name == "email_unsubscribed")).all()) == 1
    assert {key: status for key, (status, _) in statuses(session).items()} == {
        "1:sale:1": "cancelled",
        "1:news:1": "cancelled",
        "1:receipt:1": "pending",
    }
    assert left(session, lea) == {}, "the topic choices are kept as they were"
    page = client.get(path(links.url(lea.id, "1:sale:1", "offers")))
    assert "You no longer receive our marketing emails." in page.text
    assert "Unsubscribe from everything" not in page.text, "nothing more to leave"
    assert "Save my choices" in page.text


def test_one_click_from_the_mail_client_leaves_everything_even_from_a_topic_s_email(
    client: TestClient, session: Session, lea: Contact, links: UnsubscribeLinks
) -> None:
    response = client.post(
        path(links.url(lea.id, "1:sale:1", "offers")),
        data={"List-Unsubscribe": "One-Click", "action": "topic"},
    )

    assert (response.status_code, response.text) == (200, "Unsubscribed.")
    session.refresh(lea)
    assert lea.email_consent is False


def test_a_link_from_before_topics_and_a_test_link_still_work(
    client: TestClient, session: Session, lea: Contact, links: UnsubscribeLinks, settings: Settings
) -> None:
    signer = links._signer  # a token as emails sent before topics held it: two values
    old = f"/u/{signer.dumps([lea.id, '1:sale:1'])}"

    page = client.get(old)
    test = client.post(path(links.url(None, "test:1", "offers")), data={"action": "topic"})
    no_topic = client.post(old, data={"action": "topic"})

    assert page.status_code == 200
    assert "Leave only" not in page.text
    assert "Choose what you receive" in page.text
    assert "nothing was changed" in test.text
    assert no_topic.status_code == 200
    assert left(session, lea) == {}


def test_a_tampered_topic_link_changes_nothing(
    client: TestClient, session: Session, lea: Contact, links: UnsubscribeLinks
) -> None:
    url = path(links.url(lea.id, "1:sale:1", "offers"))
    forged = url[:-4] + ("AAAA" if not url.endswith("AAAA") else "BBBB")

    assert client.post(forged, data={"action": "topic"}).status_code == 404
    assert client.post(forged, data={"action": "choose"}).status_code == 404
    assert left(session, lea) == {}


def test_the_page_speaks_the_contact_s_french(
    client: TestClient, session: Session, lea: Contact, links: UnsubscribeLinks
) -> None:
    lea.language = "fr"
    session.add(lea)
    session.commit()
    url = path(links.url(lea.id, "1:sale:1", "offers"))

    page = client.get(url)
    done = client.post(url, data={"action": "topic"})

    assert '<html lang="fr"' in page.text
    assert "Vos préférences d’e-mails" in page.text
    assert "Quitter seulement « Offers »" in page.text
    assert "Vous ne recevrez plus « Offers »." in done.text
