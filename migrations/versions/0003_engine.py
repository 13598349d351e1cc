"""Engine: the port a parked enrollment wakes up by, and segment membership snapshots.

Revision ID: 0003_engine
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import app.db

revision: str = "0003_engine"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("enrollments") as batch_op:
        batch_op.add_column(
            sa.Column("wake_port", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True)
        )
    op.create_table(
        "segment_members",
        sa.Column("segment_key", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("since", app.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_segment_members_contact_id_contacts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("segment_key", "contact_id", name=op.f("pk_segment_members")),
    )
    op.create_table(
        "segment_checks",
        sa.Column("segment_key", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("checked_at", app.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("segment_key", name=op.f("pk_segment_checks")),
    )


def downgrade() -> None:
    op.drop_table("segment_checks")
    op.drop_table("segment_members")
    with op.batch_alter_table("enrollments") as batch_op:
        batch_op.drop_column("wake_port")
