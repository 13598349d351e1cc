"""The everyday loop (issue 14): a scenario that ran is archived, not deleted; the sends not
sent (skipped steps, skipped or cancelled outbox rows) have small indexes of their own.
Issue 15: the contacts already there who wait to enter a scenario activated "at most N per
hour" (``entry_queue``) and each such scenario's pace (``entry_ramps``); the simulations a
marketer asks for before activating (``simulations``: the request, progress, the answer).

Revision ID: 0010_everyday
Revises: 0009_language
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

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
    _create_entry_queue()
    _create_simulations()


JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def _create_simulations() -> None:
    """What-if runs of a scenario (CONTRACTS-2 §A): the request, progress and the answer."""
    op.create_table(
        "simulations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scenario_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("graph", JSON, nullable=False),
        sa.Column("replay_days", sa.Integer(), nullable=False),
        sa.Column("horizon_days", sa.Integer(), nullable=False),
        sa.Column("include_existing", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("progress", sa.Float(), nullable=False),
        sa.Column("as_of", app.db.UTCDateTime(), nullable=False),
        sa.Column("created_at", app.db.UTCDateTime(), nullable=False),
        sa.Column("finished_at", app.db.UTCDateTime(), nullable=True),
        sa.Column("heartbeat_at", app.db.UTCDateTime(), nullable=True),
        sa.Column("error", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("result", JSON, nullable=False),
        sa.ForeignKeyConstraint(
            ["scenario_id"],
            ["scenarios.id"],
            name=op.f("fk_simulations_scenario_id_scenarios"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_simulations")),
    )
    op.create_index(op.f("ix_simulations_scenario_id"), "simulations", ["scenario_id"])


def _create_entry_queue() -> None:
    op.create_table(
        "entry_queue",
        sa.Column("id", app.db.BigIntId, nullable=False),
        sa.Column("scenario_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("node_id", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("queued_at", app.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_entry_queue_contact_id_contacts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["scenario_id"],
            ["scenarios.id"],
            name=op.f("fk_entry_queue_scenario_id_scenarios"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_entry_queue")),
        sa.UniqueConstraint("scenario_id", "contact_id", name=op.f("uq_entry_queue_scenario_id")),
    )
    op.create_index("ix_entry_queue_scenario_id_id", "entry_queue", ["scenario_id", "id"])
    op.create_index(op.f("ix_entry_queue_contact_id"), "entry_queue", ["contact_id"])
    op.create_table(
        "entry_ramps",
        sa.Column("scenario_id", sa.Integer(), nullable=False),
        sa.Column("per_hour", sa.Integer(), nullable=False),
        sa.Column("next_at", app.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["scenario_id"],
            ["scenarios.id"],
            name=op.f("fk_entry_ramps_scenario_id_scenarios"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("scenario_id", name=op.f("pk_entry_ramps")),
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_simulations_scenario_id"), table_name="simulations")
    op.drop_table("simulations")
    op.drop_table("entry_ramps")
    op.drop_index(op.f("ix_entry_queue_contact_id"), table_name="entry_queue")
    op.drop_index("ix_entry_queue_scenario_id_id", table_name="entry_queue")
    op.drop_table("entry_queue")
    op.drop_index("ix_outbox_not_sent", table_name="outbox")
    op.drop_index("ix_step_log_not_sent", table_name="step_log")
    with op.batch_alter_table("scenarios") as batch:
        batch.drop_column("archived_at")
