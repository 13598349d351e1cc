"""Preference center (issue 18.3, CONTRACTS-2 §E): topics, each message's topic, and each contact's consent per topic.

Revision ID: 0013_topics
Revises: 0012_email_status
"""

from collections.abc import Sequence

revision: str = "0013_topics"
down_revision: str | Sequence[str] | None = "0012_email_status"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
