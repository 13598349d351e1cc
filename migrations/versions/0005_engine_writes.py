"""Lighter engine writes: foreign keys the step log and enrollments do not need, and an index
of the events still to match instead of one over every event.

Revision ID: 0005_engine_writes
Revises: 0004_merge
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_engine_writes"
down_revision: str | Sequence[str] | None = "0004_merge"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STEP_LOG_KEYS = (
    ("contact_id", "contacts"),
    ("scenario_id", "scenarios"),
    ("version_id", "scenario_versions"),
)
UNPROCESSED = sa.text("processed_at IS NULL")


def upgrade() -> None:
    with op.batch_alter_table("step_log") as batch_op:
        for column, table in STEP_LOG_KEYS:
            batch_op.drop_constraint(f"fk_step_log_{column}_{table}", type_="foreignkey")
    with op.batch_alter_table("enrollments") as batch_op:
        batch_op.drop_constraint("fk_enrollments_version_id_scenario_versions", type_="foreignkey")
    with op.batch_alter_table("events") as batch_op:
        batch_op.drop_index("ix_events_processed")
        batch_op.create_index(
            "ix_events_unprocessed",
            ["id"],
            postgresql_where=UNPROCESSED,
            sqlite_where=UNPROCESSED,
        )


def downgrade() -> None:
    with op.batch_alter_table("events") as batch_op:
        batch_op.drop_index("ix_events_unprocessed")
        batch_op.create_index("ix_events_processed", ["processed_at", "id"])
    with op.batch_alter_table("enrollments") as batch_op:
        batch_op.create_foreign_key(
            "fk_enrollments_version_id_scenario_versions",
            "scenario_versions",
            ["version_id"],
            ["id"],
            ondelete="CASCADE",
        )
    with op.batch_alter_table("step_log") as batch_op:
        for column, table in STEP_LOG_KEYS:
            batch_op.create_foreign_key(
                f"fk_step_log_{column}_{table}", table, [column], ["id"], ondelete="CASCADE"
            )
