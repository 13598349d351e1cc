"""The preference center in a real browser (DESIGN §12.3): a contact leaves only the email's
topic on a phone, in French; the Topics settings and the contact's topics fit 390 and 1440 px.
Screenshots: test-artifacts/screenshots/topics-*.png."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import delete
from sqlmodel import select

from app.db import create_db_engine, session_scope
from app.models import Contact, ContactTopic, MessageTemplate, Topic
from app.services.messaging.unsubscribe import UnsubscribeLinks
from tests.e2e.test_fit_any_screen import OVERFLOW
from tests.fixtures.browser import LiveServer, log_in, screenshot

pytestmark = pytest.mark.e2e
EMAIL = "camille.topics@example.com"


@pytest.fixture(scope="module")
def contact_id(live_server: LiveServer) -> Iterator[int]:
    """Two topics with long French names, an email about one, and Camille, who reads French;
    all removed afterwards, since the live server is shared (other tests read its
    unsubscribe page without topics)."""
    engine = create_db_engine(live_server.settings.database_url)
    with session_scope(engine) as session:
        session.add(Topic(key="e2e-offres", name="Offres et ventes privées de la saison",
                          description="Les promotions, deux fois par mois au plus"))  # fmt: skip
        session.add(Topic(key="e2e-journal", name="Le journal de la maison"))
        session.flush()
        session.add(MessageTemplate(key="e2e-soldes", name="Soldes", subject="Soldes",
                                    html="<p>Soldes</p>", topic="e2e-offres"))  # fmt: skip
        camille = Contact(email=EMAIL, first_name="Camille", language="fr", email_consent=True)
        session.add(camille)
        session.flush()
        assert camille.id is not None
        planted = camille.id
    yield planted
    with session_scope(engine) as session:
        session.execute(delete(MessageTemplate).where(MessageTemplate.key == "e2e-soldes"))  # type: ignore[arg-type]
        session.execute(delete(Topic).where(Topic.key.in_(["e2e-offres", "e2e-journal"])))  # type: ignore[attr-defined]
        session.execute(delete(Contact).where(Contact.id == planted))  # type: ignore[arg-type]
    engine.dispose()


def fits(page, name: str) -> None:  # type: ignore[no-untyped-def]
    found = page.evaluate(OVERFLOW)
    screenshot(page, name)
    assert found["scroll"] <= found["width"], f"{name} scrolls sideways: {found['culprits']}"


def left_topics(server: LiveServer, contact_id: int) -> set[str]:
    engine = create_db_engine(server.settings.database_url)
    with session_scope(engine) as session:
        rows = session.exec(
            select(Topic.key)
            .join(ContactTopic, ContactTopic.topic_id == Topic.id)  # type: ignore[arg-type]
            .where(ContactTopic.contact_id == contact_id, ContactTopic.subscribed == False)  # noqa: E712
        ).all()
    engine.dispose()
    return set(rows)


def test_on_a_phone_a_contact_leaves_only_the_email_s_topic_in_french(  # type: ignore[no-untyped-def]
    live_server: LiveServer, browser, contact_id: int
) -> None:
    links = UnsubscribeLinks(live_server.url, live_server.settings.resolved_secret_key())
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()

    page.goto(links.url(contact_id, "e2e:soldes:1", "e2e-offres"))
    fits(page, "topics-unsubscribe-390")
    assert page.locator("html").get_attribute("lang") == "fr"
    assert not page.get_by_test_id("topic-e2e-offres").is_checked(), "preselected to leave"
    assert page.get_by_test_id("topic-e2e-journal").is_checked()
    page.get_by_test_id("leave-topic").click()
    page.wait_for_selector("[data-testid=left-topic]")
    fits(page, "topics-left-390")
    context.close()

    assert "« Offres et ventes privées de la saison »" in page_text_of(browser, links, contact_id)
    assert left_topics(live_server, contact_id) == {"e2e-offres"}


def page_text_of(browser, links: UnsubscribeLinks, contact_id: int) -> str:  # type: ignore[no-untyped-def]
    """The preference page once more, as the contact would find it again."""
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    page.goto(links.url(contact_id, "e2e:soldes:1", "e2e-offres"))
    fits(page, "topics-unsubscribe-1440")
    text = str(page.locator("body").inner_text())
    context.close()
    return text


def test_the_topics_settings_and_a_contact_s_topics_fit_a_phone_and_a_desktop(  # type: ignore[no-untyped-def]
    live_server: LiveServer, browser, contact_id: int
) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 900})
    page = context.new_page()
    log_in(page, live_server)
    page.wait_for_url(live_server.url + "/")

    for width in (390, 1440):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(live_server.url + "/settings/topics")
        fits(page, f"topics-settings-{width}")
        page.goto(live_server.url + f"/contacts/{contact_id}")
        page.get_by_test_id("contact-topics").scroll_into_view_if_needed()
        fits(page, f"topics-contact-{width}")
        page.goto(live_server.url + "/messages/e2e-soldes")
        assert page.get_by_test_id("message-topic").input_value() == "e2e-offres"
        fits(page, f"topics-message-{width}")
    context.close()
