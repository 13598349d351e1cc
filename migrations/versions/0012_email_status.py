"""Bounces and complaints (issue 18.4, CONTRACTS-2 §E): the email status of each contact (bounced, complained) with its reason and time, and the soft-bounce count.

Revision ID: 0012_email_status
Revises: 0011_sending_rules
"""

from collections.abc import Sequence

revision: str = "0012_email_status"
down_revision: str | Sequence[str] | None = "0011_sending_rules"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
