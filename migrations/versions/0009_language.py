"""Languages: each user's language and time zone, each contact's language, the
workspace's default language for contacts, and the language of each import's report.

Revision ID: 0009_language
Revises: 0008_event_shares
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

from app.db import UTCDateTime

revision: str = "0009_language"
down_revision: str | Sequence[str] | None = "0008_event_shares"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(
            sa.Column("language", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True)
        )
        batch.add_column(
            sa.Column("time_zone", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        )
    with op.batch_alter_table("contacts") as batch:
        batch.add_column(
            sa.Column("language", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True)
        )
    with op.batch_alter_table("contact_imports") as batch:
        batch.add_column(
            sa.Column("language", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True)
        )
    op.create_table(
        "workspace",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contact_language", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workspace")),
    )


def downgrade() -> None:
    op.drop_table("workspace")
    with op.batch_alter_table("contact_imports") as batch:
        batch.drop_column("language")
    with op.batch_alter_table("contacts") as batch:
        batch.drop_column("language")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("time_zone")
        batch.drop_column("language")
