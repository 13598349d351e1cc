"""Topics of marketing emails (the preference center, DESIGN §12.3) and each contact's choice.

A message may carry a topic (``message_templates.topic``, a topic's key). A contact who never
chose is in every topic: ``contact_topics`` holds only choices someone made (the contact on
the preference page, a marketer, the API), ``subscribed`` false for a topic left.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from app.models.base import created_at_field, id_field


class Topic(SQLModel, table=True):
    """What a marketing email is about (``newsletter``, ``offers``), by a stable ``key``."""

    __tablename__ = "topics"

    id: int | None = id_field()
    key: str = Field(max_length=100, unique=True)
    name: str = Field(max_length=200)
    description: str = Field(default="", max_length=500)
    created_at: datetime = created_at_field()


class ContactTopic(SQLModel, table=True):
    """One contact's choice about one topic: in (``subscribed``) or left, when, and how."""

    __tablename__ = "contact_topics"
    # The send checks read a chunk's contacts who left a topic; a topic's page counts them.
    __table_args__ = (Index("ix_contact_topics_topic", "topic_id", "subscribed"),)

    contact_id: int = Field(foreign_key="contacts.id", primary_key=True, ondelete="CASCADE")
    topic_id: int = Field(foreign_key="topics.id", primary_key=True, ondelete="CASCADE")
    subscribed: bool
    changed_at: datetime = created_at_field()
    source: str = Field(default="api", max_length=200)
