"""Topics: what marketing emails are about (``newsletter``, ``offers``), by a stable key.

A message template may name a topic (``message_templates.topic``); a contact may leave a
topic and keep the others (``topic_choices.py``). A topic's key never changes (messages and
the shop's code use it); its name and description do. Deleting a topic is refused while a
message carries it, naming those messages, so no email loses its topic behind its author's
back; the contacts' choices about it go with it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from app.graph.names import has_control_characters, has_direction_controls
from app.graph.wording import quote
from app.i18n import N_, _, ngettext
from app.models import ContactTopic, MessageTemplate, Topic
from app.services.errors import Conflict, Invalid, NotFound
from app.services.keys import key_or_derived
from app.services.unique_rows import add_unique

MAX_NAME = 200
MAX_DESCRIPTION = 500
MAX_TOPICS = 100  # a preference page lists them all; more would be no choice at all


@dataclass(frozen=True)
class TopicSummary:
    topic: Topic
    messages: int  # message templates carrying it
    left: int  # contacts who left it


def list_topics(session: Session) -> Sequence[Topic]:
    return session.scalars(select(Topic).order_by(col(Topic.name), col(Topic.key))).all()


def topic_names(session: Session) -> dict[str, str]:
    """Every topic's name by key."""
    return dict(session.execute(select(col(Topic.key), col(Topic.name))).all())


def summaries(session: Session) -> list[TopicSummary]:
    """Each topic with how many messages carry it and how many contacts left it (two
    grouped queries, for the Settings page)."""
    used = dict(
        session.execute(
            select(col(MessageTemplate.topic), func.count())
            .where(col(MessageTemplate.topic).is_not(None))
            .group_by(col(MessageTemplate.topic))
        ).all()
    )
    left = dict(
        session.execute(
            select(col(ContactTopic.topic_id), func.count())
            .where(col(ContactTopic.subscribed).is_(False))
            .group_by(col(ContactTopic.topic_id))
        ).all()
    )
    return [
        TopicSummary(t, int(used.get(t.key, 0)), int(left.get(t.id, 0)))
        for t in list_topics(session)
    ]


def find_topic(session: Session, key: str) -> Topic | None:
    return session.scalars(select(Topic).where(col(Topic.key) == key)).first()


def get_topic(session: Session, key: str) -> Topic:
    found = find_topic(session, key)
    if found is None:
        raise NotFound(_("There is no topic with the key %(key)s.") % {"key": quote(key)})
    return found


def check_topic_key(session: Session, key: str | None) -> str | None:
    """A message's topic: None (no topic) or the key of a topic that exists; Invalid else."""
    if key is None or not key.strip():
        return None
    key = key.strip()
    if find_topic(session, key) is None:
        raise Invalid(
            _("There is no topic with the key %(key)s: create it first in Settings → Topics.")
            % {"key": quote(key)}
        )
    return key


INVISIBLE_NAME = N_(
    "The topic name holds invisible characters (line breaks, direction marks); remove them."
)


def _name(name: str) -> str:
    name = name.strip()
    if not name:
        raise Invalid(_("Give the topic a name, e.g. Newsletter."))
    if len(name) > MAX_NAME:
        raise Invalid(_("The topic name is longer than 200 characters."))
    if has_control_characters(name) or has_direction_controls(name):
        # Contacts read it on the preference page: it must read as what it is.
        raise Invalid(_(INVISIBLE_NAME))
    return name


def _description(description: str) -> str:
    description = description.strip()
    if len(description) > MAX_DESCRIPTION:
        raise Invalid(_("The description is longer than 500 characters."))
    return description


def create_topic(
    session: Session, *, key: str, name: str, description: str = "", now: datetime
) -> Topic:
    """Creates the topic; without a ``key``, one is derived from the name (``offers``)."""
    name, description = _name(name), _description(description)
    key = key_or_derived(session, col(Topic.key), key, name)
    taken = _("A topic with the key %(key)s already exists.") % {"key": quote(key)}
    if find_topic(session, key) is not None:
        raise Conflict(taken)
    count = session.execute(select(func.count()).select_from(Topic)).scalar_one()
    if count >= MAX_TOPICS:
        raise Invalid(_("There are already 100 topics: delete one before adding another."))
    topic = Topic(key=key, name=name, description=description, created_at=now)
    if not add_unique(session, topic):
        raise Conflict(taken)
    return topic


def rename_topic(
    session: Session, topic: Topic, *, name: str, description: str | None = None
) -> Topic:
    """A new name (and description); the key stays, so messages still carry the topic."""
    topic.name = _name(name)
    if description is not None:
        topic.description = _description(description)
    session.add(topic)
    session.flush()
    return topic


def messages_with(session: Session, key: str) -> list[str]:
    """The names of the messages that carry the topic."""
    query = select(col(MessageTemplate.name)).where(col(MessageTemplate.topic) == key)
    return list(session.scalars(query.order_by(col(MessageTemplate.name))).all())


def delete_topic(session: Session, topic: Topic) -> None:
    """Deletes the topic and the contacts' choices about it; refused (409) while a message
    carries it, naming them."""
    _refuse_if_used(topic, messages_with(session, topic.key))
    try:
        # A message given this topic meanwhile (another request) holds it: the foreign key
        # refuses the delete, and the savepoint keeps the caller's transaction usable.
        with session.begin_nested():
            session.delete(topic)
            session.flush()
    except IntegrityError:
        _refuse_if_used(topic, messages_with(session, topic.key) or [_("another message")])


def _refuse_if_used(topic: Topic, names: list[str]) -> None:
    if not names:
        return
    shown = ", ".join(quote(name) for name in names[:10])
    if len(names) > 10:
        shown += " …"
    message = ngettext(
        "The topic %(topic)s is used by the message %(messages)s: give it another topic first.",
        "The topic %(topic)s is used by %(count)s messages (%(messages)s): give them another "
        "topic first.",
        len(names),
    )
    raise Conflict(message % {"topic": quote(topic.name), "messages": shown, "count": len(names)})
