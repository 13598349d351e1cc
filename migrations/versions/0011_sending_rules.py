"""Sending rules (issue 17, CONTRACTS-2 §D): the account's quiet hours, frequency caps and
scenario priorities (``sending_rules``, one row), and on each outbox row when a marketing send
was let through under the caps (``counted_at``, with the index the caps count on), when it was
first held back and why it is held (``held_since``, ``held``).

Revision ID: 0011_sending_rules
Revises: 0010_everyday
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import app.db

revision: str = "0011_sending_rules"
down_revision: str | Sequence[str] | None = "0010_everyday"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "sending_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("quiet_hours", JSON, nullable=True),
        sa.Column("caps", JSON, nullable=False),
        sa.Column("priority", JSON, nullable=False),
        sa.Column("updated_at", app.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("counted_at", app.db.UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("held_since", app.db.UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("held", JSON, nullable=True))
    counted = sa.text("counted_at IS NOT NULL")
    op.create_index(
        "ix_outbox_counted",
        "outbox",
        ["contact_id", "channel", "counted_at"],
        postgresql_where=counted,
        sqlite_where=counted,
    )
    held = sa.text("held_since IS NOT NULL")
    op.create_index(
        "ix_outbox_held",
        "outbox",
        ["scenario_id", "node_id"],
        postgresql_where=held,
        sqlite_where=held,
    )


def downgrade() -> None:
    op.drop_index("ix_outbox_held", table_name="outbox")
    op.drop_index("ix_outbox_counted", table_name="outbox")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("held")
        batch.drop_column("held_since")
        batch.drop_column("counted_at")
    op.drop_table("sending_rules")
