"""Join the three branches written in parallel (contacts, messages, engine) into one head.

Revision ID: 0004_merge
Revises: 0003_contacts, 0003_engine, 0003_messages
"""

from collections.abc import Sequence

revision: str = "0004_merge"
down_revision: str | Sequence[str] | None = ("0003_contacts", "0003_engine", "0003_messages")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
