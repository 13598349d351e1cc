"""Lighter engine writes: no foreign keys on the step log (the engine writes it with its
enrollments; erasure deletes it) nor from enrollments to scenarios and versions (never
deleted), no step-log index by contact (a contact's steps are found through their
enrollments), and partial indexes (events still to match, journeys still under way) instead
of indexes over every row. Contacts' pages keep room for changed scores and attributes.

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
    ("enrollment_id", "enrollments"),
    ("contact_id", "contacts"),
    ("scenario_id", "scenarios"),
    ("version_id", "scenario_versions"),
)
UNPROCESSED = sa.text("processed_at IS NULL")
DUE = sa.text("wake_at IS NOT NULL")
WAITING = sa.text("wait_event IS NOT NULL")


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE contacts SET (fillfactor = 85)")
    with op.batch_alter_table("step_log") as batch_op:
        for column, table in STEP_LOG_KEYS:
            batch_op.drop_constraint(f"fk_step_log_{column}_{table}", type_="foreignkey")
    op.drop_index("ix_step_log_contact_at", "step_log")
    with op.batch_alter_table("enrollments") as batch_op:
        batch_op.drop_constraint("fk_enrollments_version_id_scenario_versions", type_="foreignkey")
        batch_op.drop_constraint("fk_enrollments_scenario_id_scenarios", type_="foreignkey")
    op.drop_index("ix_enrollments_due", "enrollments")
    op.drop_index("ix_enrollments_waiting_event", "enrollments")
    op.create_index(
        "ix_enrollments_due",
        "enrollments",
        ["wake_at", "id"],
        postgresql_where=DUE,
        sqlite_where=DUE,
    )
    op.create_index(
        "ix_enrollments_waiting_event",
        "enrollments",
        ["wait_event", "contact_id"],
        postgresql_where=WAITING,
        sqlite_where=WAITING,
    )
    with op.batch_alter_table("events") as batch_op:
        batch_op.drop_index("ix_events_processed")
        batch_op.create_index(
            "ix_events_unprocessed",
            ["id"],
            postgresql_where=UNPROCESSED,
            sqlite_where=UNPROCESSED,
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE contacts RESET (fillfactor)")
    with op.batch_alter_table("events") as batch_op:
        batch_op.drop_index("ix_events_unprocessed")
        batch_op.create_index("ix_events_processed", ["processed_at", "id"])
    op.drop_index("ix_enrollments_due", "enrollments")
    op.drop_index("ix_enrollments_waiting_event", "enrollments")
    op.create_index("ix_enrollments_due", "enrollments", ["state", "wake_at"])
    op.create_index("ix_enrollments_waiting_event", "enrollments", ["wait_event", "contact_id"])
    with op.batch_alter_table("enrollments") as batch_op:
        batch_op.create_foreign_key(
            "fk_enrollments_scenario_id_scenarios",
            "scenarios",
            ["scenario_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch_op.create_foreign_key(
            "fk_enrollments_version_id_scenario_versions",
            "scenario_versions",
            ["version_id"],
            ["id"],
            ondelete="CASCADE",
        )
    op.create_index("ix_step_log_contact_at", "step_log", ["contact_id", "at"])
    with op.batch_alter_table("step_log") as batch_op:
        for column, table in STEP_LOG_KEYS:
            batch_op.create_foreign_key(
                f"fk_step_log_{column}_{table}", table, [column], ["id"], ondelete="CASCADE"
            )
