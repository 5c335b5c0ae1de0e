"""IVR calls in progress.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ivr_calls",
        sa.Column("token", sa.String(40), primary_key=True),
        sa.Column("communication_id", sa.String(40), nullable=False, index=True),
        sa.Column("idempotency_key", sa.String(120), nullable=False, unique=True),
        sa.Column("call_sid", sa.String(64), nullable=True, index=True),
        sa.Column("script", sa.Text, nullable=False),
        sa.Column("stage", sa.String(12), nullable=False),
        sa.Column("item_index", sa.Integer, nullable=False),
        sa.Column("mismatch", sa.Integer, nullable=False),
        sa.Column("rounds_failed", sa.Integer, nullable=False),
        sa.Column("notice_plays", sa.Integer, nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("notice_completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("recording_sid", sa.String(64), nullable=True),
        sa.Column("recording_status", sa.String(12), nullable=True),
        sa.Column("call_status", sa.String(16), nullable=True),
        sa.Column("concluded", sa.Integer, nullable=False),
        sa.Column("log", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("ivr_calls")
