"""Enrollments remember when their triggering event happened, and which it was: awaited
events and goals count from the event's own time, not from when the matcher reached it.

Revision ID: 0007_trigger_time
Revises: 0006_hardening
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db

revision: str = "0007_trigger_time"
down_revision: str | Sequence[str] | None = "0006_hardening"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("enrollments") as batch_op:
        batch_op.add_column(sa.Column("trigger_at", app.db.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("trigger_event_id", app.db.BigIntId, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("enrollments") as batch_op:
        batch_op.drop_column("trigger_event_id")
        batch_op.drop_column("trigger_at")
