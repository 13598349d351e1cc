"""Segment-compatible intake (issue 18.1, CONTRACTS-2 §E): events of anonymous visitors
waiting for identify or alias, and the links between anonymous ids and contacts.

Revision ID: 0015_segment
Revises: 0014_forms
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

import app.db

revision: str = "0015_segment"
down_revision: str | Sequence[str] | None = "0014_forms"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "anonymous_links",
        sa.Column("anonymous_id", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("linked_at", app.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_anonymous_links_contact_id_contacts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("anonymous_id", name=op.f("pk_anonymous_links")),
    )
    op.create_index(op.f("ix_anonymous_links_contact_id"), "anonymous_links", ["contact_id"])
    op.create_table(
        "anonymous_events",
        sa.Column("id", app.db.BigIntId, nullable=False),
        sa.Column("uid", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("anonymous_id", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("properties", JSON, nullable=False),
        sa.Column("occurred_at", app.db.UTCDateTime(), nullable=False),
        sa.Column("received_at", app.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_anonymous_events")),
        sa.UniqueConstraint("uid", name=op.f("uq_anonymous_events_uid")),
    )
    op.create_index(op.f("ix_anonymous_events_anonymous_id"), "anonymous_events", ["anonymous_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_anonymous_events_anonymous_id"), table_name="anonymous_events")
    op.drop_table("anonymous_events")
    op.drop_index(op.f("ix_anonymous_links_contact_id"), table_name="anonymous_links")
    op.drop_table("anonymous_links")
