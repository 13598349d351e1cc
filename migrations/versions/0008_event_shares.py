"""Events still to match, by share of the contacts (PostgreSQL): a matching batch takes the
oldest unmatched events of one share (``contact_id % 16``) without scanning the others'.

Revision ID: 0008_event_shares
Revises: 0007_trigger_time
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_event_shares"
down_revision: str | Sequence[str] | None = "0007_trigger_time"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_events_unprocessed_share",
        "events",
        [sa.text("(contact_id % 16)"), "id"],
        postgresql_where=sa.text("processed_at IS NULL"),
        sqlite_where=sa.text("processed_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_events_unprocessed_share", table_name="events")
