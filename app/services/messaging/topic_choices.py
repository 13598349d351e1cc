"""Each contact's consent per topic (DESIGN §12.3): opt-out, so a contact who never chose is in.

A marketing email with topic T goes to a contact who has general email consent and has not
left T; a topic-less marketing email needs general consent alone; a transactional one needs
neither. Leaving a topic cancels the contact's pending marketing emails of that topic at once
(the send checks again anyway). Choices are written in one statement per call, never one row
at a time, and a choice that does not change keeps its time and source.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel, col

from app.bulk import among, is_postgres
from app.graph.wording import quote
from app.i18n import _
from app.models import ContactTopic, Topic
from app.services.errors import Invalid
from app.services.messaging.topics import list_topics

CONTACT_TOPICS = SQLModel.metadata.tables["contact_topics"]
TOPICS = SQLModel.metadata.tables["topics"]
CONTACTS = SQLModel.metadata.tables["contacts"]
MAX_SOURCE = 200


@dataclass(frozen=True)
class TopicChoice:
    topic: Topic
    subscribed: bool
    changed_at: datetime | None  # None: never chosen (in, by default)
    source: str | None


def by_keys(session: Session, raw: Mapping[str, Any]) -> dict[int, bool]:
    """``{"offers": false}`` as topic id → in or not; Invalid naming unknown keys or a value
    that is not true or false (nothing is written)."""
    if not raw:
        return {}
    known = {t.key: t.id for t in list_topics(session) if t.id is not None}
    unknown = sorted(key for key in raw if key not in known)
    if unknown:
        names = ", ".join(quote(str(key)[:100]) for key in unknown[:10])
        raise Invalid(_("There is no topic with the key %(keys)s.") % {"keys": names})
    for key, value in raw.items():
        if not isinstance(value, bool):
            raise Invalid(
                _("The topic %(key)s takes true (in) or false (left).") % {"key": quote(key)}
            )
    return {known[key]: value for key, value in raw.items()}


def choose(
    session: Session, contact_id: int, choices: Mapping[int, bool], *, now: datetime, source: str
) -> None:
    """Writes the contact's choices (topic id → in or not) in one upsert."""
    if not choices:
        return
    rows = [
        {
            "contact_id": contact_id,
            "topic_id": topic_id,
            "subscribed": subscribed,
            "changed_at": now,
            "source": source[:MAX_SOURCE],
        }
        for topic_id, subscribed in sorted(choices.items())
    ]
    insert = pg_insert if is_postgres(session) else sqlite_insert
    statement = insert(CONTACT_TOPICS)
    excluded = statement.excluded
    upsert = statement.on_conflict_do_update(
        index_elements=["contact_id", "topic_id"],
        set_={
            "subscribed": excluded.subscribed,
            "changed_at": excluded.changed_at,
            "source": excluded.source,
        },
        where=CONTACT_TOPICS.c.subscribed != excluded.subscribed,
    )
    try:
        with session.begin_nested():
            session.execute(upsert, rows)
    except IntegrityError:
        # A topic (or the contact) was deleted by another request meanwhile: the choices
        # about it went with it, and the others are written.
        still = select(CONTACTS.c.id).where(CONTACTS.c.id == contact_id)
        if session.execute(still).first() is None:
            return
        ids = [row["topic_id"] for row in rows]
        alive = set(session.scalars(select(TOPICS.c.id).where(TOPICS.c.id.in_(ids))))
        rows = [row for row in rows if row["topic_id"] in alive]
        if rows:
            session.execute(upsert, rows)


def choices_of(session: Session, contact_id: int) -> list[TopicChoice]:
    """Every topic with the contact's choice (in by default), by name."""
    made = {
        row.topic_id: row
        for row in session.scalars(
            select(ContactTopic).where(col(ContactTopic.contact_id) == contact_id)
        )
    }
    shown: list[TopicChoice] = []
    for topic in list_topics(session):
        row = made.get(topic.id)  # type: ignore[arg-type]
        if row is None:
            shown.append(TopicChoice(topic, True, None, None))
        else:
            shown.append(TopicChoice(topic, row.subscribed, row.changed_at, row.source))
    return shown


def topics_document(session: Session, contact_id: int) -> dict[str, bool]:
    """``{"newsletter": true, "offers": false}``: whether the contact is in each topic (one
    query, as the contact's lists)."""
    query = select(TOPICS.c.key, CONTACT_TOPICS.c.subscribed).select_from(
        TOPICS.outerjoin(
            CONTACT_TOPICS,
            (CONTACT_TOPICS.c.topic_id == TOPICS.c.id)
            & (CONTACT_TOPICS.c.contact_id == contact_id),
        )
    )
    rows = session.execute(query.order_by(TOPICS.c.key))
    return {str(key): subscribed is None or bool(subscribed) for key, subscribed in rows}


def export_rows(session: Session, contact_id: int) -> list[dict[str, Any]]:
    """The choices the contact (or someone for them) made, for the GDPR export."""
    query = (
        select(TOPICS.c.key, CONTACT_TOPICS.c.subscribed, CONTACT_TOPICS.c.changed_at,
               CONTACT_TOPICS.c.source)
        .join(TOPICS, TOPICS.c.id == CONTACT_TOPICS.c.topic_id)
        .where(CONTACT_TOPICS.c.contact_id == contact_id)
        .order_by(TOPICS.c.key)
    )  # fmt: skip
    return [
        {"topic": key, "subscribed": bool(subscribed), "at": at.isoformat(), "source": source}
        for key, subscribed, at, source in session.execute(query)
    ]


def left_topics(session: Session, contact_ids: Iterable[int]) -> dict[int, set[str]]:
    """The topic keys each of these contacts left, in one query for a whole chunk (contacts
    who left none are absent)."""
    ids = list(set(contact_ids))
    if not ids:
        return {}
    query = (
        select(CONTACT_TOPICS.c.contact_id, TOPICS.c.key)
        .join(TOPICS, TOPICS.c.id == CONTACT_TOPICS.c.topic_id)
        .where(among(session, CONTACT_TOPICS.c.contact_id, ids))
        .where(CONTACT_TOPICS.c.subscribed.is_(False))
    )
    left: dict[int, set[str]] = {}
    for contact_id, key in session.execute(query):
        left.setdefault(int(contact_id), set()).add(str(key))
    return left
