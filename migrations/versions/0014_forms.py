"""Signup forms with double opt-in (issue 18.2, CONTRACTS-2 §E): forms, their pending
confirmations and the proof of each consent given.

Revision ID: 0014_forms
Revises: 0013_topics
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

import app.db

revision: str = "0014_forms"
down_revision: str | Sequence[str] | None = "0013_topics"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
Text = sqlmodel.sql.sqltypes.AutoString


def _contact_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["contact_id"],
        ["contacts.id"],
        name=op.f(f"fk_{table}_contact_id_contacts"),
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.create_table(
        "forms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", Text(length=100), nullable=False),
        sa.Column("name", Text(length=200), nullable=False),
        sa.Column("fields", JSON, nullable=False),
        sa.Column("lists", JSON, nullable=False),
        sa.Column("consent_text", sa.Text(), nullable=False),
        sa.Column("double_opt_in", sa.Boolean(), nullable=False),
        sa.Column("thank_you", sa.Text(), nullable=False),
        sa.Column("redirect_url", Text(length=2000), nullable=True),
        sa.Column("language", Text(length=8), nullable=True),
        sa.Column("created_at", app.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", app.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_forms")),
        sa.UniqueConstraint("key", name=op.f("uq_forms_key")),
    )
    op.create_table(
        "form_confirmations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", Text(length=64), nullable=False),
        sa.Column("form_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("email", Text(length=320), nullable=False),
        sa.Column("answers", JSON, nullable=False),
        sa.Column("consent_text", sa.Text(), nullable=False),
        sa.Column("ip", Text(length=64), nullable=False),
        sa.Column("user_agent", Text(length=300), nullable=False),
        sa.Column("submitted_at", app.db.UTCDateTime(), nullable=False),
        sa.Column("expires_at", app.db.UTCDateTime(), nullable=False),
        sa.Column("confirmed_at", app.db.UTCDateTime(), nullable=True),
        _contact_fk("form_confirmations"),
        sa.ForeignKeyConstraint(
            ["form_id"],
            ["forms.id"],
            name=op.f("fk_form_confirmations_form_id_forms"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_form_confirmations")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_form_confirmations_token_hash")),
    )
    with op.batch_alter_table("form_confirmations") as batch:
        batch.create_index("ix_form_confirmations_email_sent", ["email", "submitted_at"])
        batch.create_index(op.f("ix_form_confirmations_form_id"), ["form_id"])
        batch.create_index(op.f("ix_form_confirmations_contact_id"), ["contact_id"])
    op.create_table(
        "consent_proofs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("form_id", sa.Integer(), nullable=True),
        sa.Column("form_key", Text(length=100), nullable=False),
        sa.Column("form_name", Text(length=200), nullable=False),
        sa.Column("channel", Text(length=10), nullable=False),
        sa.Column("consent_text", sa.Text(), nullable=False),
        sa.Column("double_opt_in", sa.Boolean(), nullable=False),
        sa.Column("ip", Text(length=64), nullable=False),
        sa.Column("user_agent", Text(length=300), nullable=False),
        sa.Column("submitted_at", app.db.UTCDateTime(), nullable=False),
        sa.Column("confirmed_at", app.db.UTCDateTime(), nullable=True),
        sa.Column("confirm_ip", Text(length=64), nullable=True),
        sa.Column("confirm_user_agent", Text(length=300), nullable=True),
        sa.Column("granted_at", app.db.UTCDateTime(), nullable=False),
        _contact_fk("consent_proofs"),
        sa.ForeignKeyConstraint(
            ["form_id"],
            ["forms.id"],
            name=op.f("fk_consent_proofs_form_id_forms"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_proofs")),
    )
    with op.batch_alter_table("consent_proofs") as batch:
        batch.create_index(op.f("ix_consent_proofs_contact_id"), ["contact_id"])


def downgrade() -> None:
    with op.batch_alter_table("consent_proofs") as batch:
        batch.drop_index(op.f("ix_consent_proofs_contact_id"))
    op.drop_table("consent_proofs")
    with op.batch_alter_table("form_confirmations") as batch:
        batch.drop_index(op.f("ix_form_confirmations_contact_id"))
        batch.drop_index(op.f("ix_form_confirmations_form_id"))
        batch.drop_index("ix_form_confirmations_email_sent")
    op.drop_table("form_confirmations")
    op.drop_table("forms")
