"""Registered letters: tracking codes, the print queue and print batches.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "letters",
        sa.Column("communication_id", sa.String(40), primary_key=True),
        sa.Column("tracking_code", sa.String(13), nullable=False, unique=True),
        sa.Column("addressee", sa.Text, nullable=False),
        sa.Column("pdf_sha256", sa.String(64), nullable=False),
        sa.Column("state", sa.String(12), nullable=False, index=True),
        sa.Column("batch_id", sa.String(40), nullable=True),
        sa.Column("queued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("exported_at", sa.DateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("letters")
