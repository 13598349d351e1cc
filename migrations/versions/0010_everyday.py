"""The everyday loop (issue 14): a scenario that ran is archived, not deleted.

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


def downgrade() -> None:
    with op.batch_alter_table("scenarios") as batch:
        batch.drop_column("archived_at")
