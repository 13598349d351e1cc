"""What the unsubscribe and preference page shows for one link (DESIGN §12.3)."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from app.models import Contact
from app.services.messaging.topic_choices import TopicChoice, choices_of
from app.services.messaging.topics import find_topic, list_topics
from app.services.messaging.unsubscribe import UnsubscribeLink


def page_context(session: Session, link: UnsubscribeLink) -> dict[str, Any]:
    """The topics with the contact's choices (every topic ticked for a test link), the topic
    of the email the link came from (when it still exists), and whether the contact still
    receives marketing emails at all."""
    contact = session.get(Contact, link.contact_id) if link.contact_id is not None else None
    if contact is not None:
        assert contact.id is not None
        topics = choices_of(session, contact.id)
    else:
        topics = [TopicChoice(topic, True, None, None) for topic in list_topics(session)]
    return {
        "test": link.contact_id is None,
        "gone": link.contact_id is not None and contact is None,
        "consent": contact.email_consent if contact is not None else True,
        "topics": topics,
        "link_topic": find_topic(session, link.topic) if link.topic is not None else None,
    }
