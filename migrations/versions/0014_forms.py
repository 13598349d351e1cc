"""Signup forms with double opt-in (issue 18.2, CONTRACTS-2 §E): forms, their pending confirmations and the proof of each consent given.

Revision ID: 0014_forms
Revises: 0013_topics
"""

from collections.abc import Sequence

revision: str = "0014_forms"
down_revision: str | Sequence[str] | None = "0013_topics"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
