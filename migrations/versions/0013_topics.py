"""Preference center (issue 18.3, CONTRACTS-2 §E): topics, each message's topic, and each
contact's consent per topic.

Revision ID: 0013_topics
Revises: 0012_email_status
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db

revision: str = "0013_topics"
down_revision: str | Sequence[str] | None = "0012_email_status"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "topics",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=False),
        sa.Column("created_at", app.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_topics")),
        sa.UniqueConstraint("key", name=op.f("uq_topics_key")),
    )
    op.create_table(
        "contact_topics",
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("topic_id", sa.Integer(), nullable=False),
        sa.Column("subscribed", sa.Boolean(), nullable=False),
        sa.Column("changed_at", app.db.UTCDateTime(), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_contact_topics_contact_id_contacts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["topic_id"],
            ["topics.id"],
            name=op.f("fk_contact_topics_topic_id_topics"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("contact_id", "topic_id", name=op.f("pk_contact_topics")),
    )
    op.create_index("ix_contact_topics_topic", "contact_topics", ["topic_id", "subscribed"])
    with op.batch_alter_table("message_templates") as batch:
        batch.add_column(sa.Column("topic", sa.String(length=100), nullable=True))
        batch.create_foreign_key(
            op.f("fk_message_templates_topic_topics"), "topics", ["topic"], ["key"]
        )


def downgrade() -> None:
    with op.batch_alter_table("message_templates") as batch:
        batch.drop_constraint(op.f("fk_message_templates_topic_topics"), type_="foreignkey")
        batch.drop_column("topic")
    op.drop_index("ix_contact_topics_topic", table_name="contact_topics")
    op.drop_table("contact_topics")
    op.drop_table("topics")
