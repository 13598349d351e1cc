"""The everyday loop (issue 14): a scenario that ran is archived, not deleted; the sends not
sent (skipped steps, skipped or cancelled outbox rows) have small indexes of their own.

Revision ID: 0010_everyday
Revises: 0009_language
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db

revision: str = "0010_everyday"
down_revision: str | Sequence[str] | None = "0009_language"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("scenarios") as batch:
        batch.add_column(sa.Column("archived_at", app.db.UTCDateTime(), nullable=True))
    skipped = sa.text("outcome = 'skipped'")
    op.create_index(
        "ix_step_log_not_sent",
        "step_log",
        ["scenario_id", "node_id"],
        postgresql_where=skipped,
        sqlite_where=skipped,
    )
    unsent = sa.text("status IN ('skipped', 'cancelled')")
    op.create_index(
        "ix_outbox_not_sent",
        "outbox",
        ["scenario_id", "node_id"],
        postgresql_where=unsent,
        sqlite_where=unsent,
    )


def downgrade() -> None:
    op.drop_index("ix_outbox_not_sent", table_name="outbox")
    op.drop_index("ix_step_log_not_sent", table_name="step_log")
    with op.batch_alter_table("scenarios") as batch:
        batch.drop_column("archived_at")
