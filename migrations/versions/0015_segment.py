"""Segment-compatible intake (issue 18.1, CONTRACTS-2 §E): events of anonymous visitors waiting for identify or alias, and the links between anonymous ids and contacts.

Revision ID: 0015_segment
Revises: 0014_forms
"""

from collections.abc import Sequence

revision: str = "0015_segment"
down_revision: str | Sequence[str] | None = "0014_forms"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
