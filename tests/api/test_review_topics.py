"""Review of the preference center (DESIGN §12.3): what a contact or a marketer did not see
is not chosen for them."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.models import Contact, ContactTopic, Topic
from app.services.messaging.unsubscribe import UnsubscribeLinks
from tests.api.test_topics_unsubscribe import lea, left, links, path  # noqa: F401 - fixtures
from tests.fixtures.web import Browser
from tests.worker.delivery_kit import add_contact


def shown(page: str) -> list[str]:
    """The topic keys a page's form says it showed."""
    return re.findall(r'<input type="hidden" name="shown" value="([^"]+)">', page)


def test_saving_choices_does_not_leave_a_topic_created_after_the_page_was_opened(
    client: TestClient,
    session: Session,
    lea: Contact,  # noqa: F811
    links: UnsubscribeLinks,  # noqa: F811
) -> None:
    url = path(links.url(lea.id, "1:sale:1", "offers"))
    page = client.get(url)
    session.add(Topic(key="events", name="Events"))  # the marketer adds one meanwhile
    session.commit()

    saved = client.post(
        url, data={"action": "choose", "keep": ["newsletter"], "shown": shown(page.text)}
    )

    assert saved.status_code == 200
    session.expire_all()
    assert left(session, lea) == {"offers": False, "newsletter": True}, "events never seen"
    assert "You will no longer receive “Events”" not in saved.text


def test_a_marketer_saving_a_contact_s_topics_does_not_leave_one_created_since(
    logged_in: Browser, session: Session
) -> None:
    session.add(Topic(key="offers", name="Offers"))
    marie_s = add_contact(session)
    session.commit()
    page = logged_in.client.get(f"/contacts/{marie_s.id}")
    session.add(Topic(key="events", name="Events"))
    session.commit()

    saved = logged_in.client.post(
        f"/contacts/{marie_s.id}/topics",
        data={"keep": [], "shown": shown(page.text), "csrf_token": logged_in.csrf},
    )

    assert saved.status_code == 303
    session.expire_all()
    rows = session.exec(
        select(Topic.key, ContactTopic.subscribed).join(
            Topic,
            Topic.id == ContactTopic.topic_id,  # type: ignore[arg-type]
        )
    ).all()
    assert dict(rows) == {"offers": False}
