"""Bounces and complaints (issue 18.4, CONTRACTS-2 §E): each contact's email status.

``contacts.email_status`` (bounced, complained) with its reason and time, and the soft-bounce
count; ``outbox.delivered_at``, when a mail provider said a message was delivered.

Revision ID: 0012_email_status
Revises: 0011_sending_rules
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db

revision: str = "0012_email_status"
down_revision: str | Sequence[str] | None = "0011_sending_rules"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("contacts") as batch:
        batch.add_column(sa.Column("email_status", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("email_status_reason", sa.String(length=500), nullable=True))
        batch.add_column(sa.Column("email_status_at", app.db.UTCDateTime(), nullable=True))
        # Existing rows start at 0 (the server default fills them; the model writes 0 too).
        batch.add_column(
            sa.Column(
                "email_soft_bounces", sa.Integer(), nullable=False, server_default=sa.text("0")
            )
        )
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("delivered_at", app.db.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("delivered_at")
    with op.batch_alter_table("contacts") as batch:
        batch.drop_column("email_soft_bounces")
        batch.drop_column("email_status_at")
        batch.drop_column("email_status_reason")
        batch.drop_column("email_status")
