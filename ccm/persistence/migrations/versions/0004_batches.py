"""Batches of requests and their rows.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "batches",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("submitted_by", sa.String(40), nullable=False),
        sa.Column("format", sa.String(10), nullable=False),
        sa.Column("total", sa.Integer, nullable=False),
        sa.Column("accepted", sa.Integer, nullable=False),
        sa.Column("rejected", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "batch_rows",
        sa.Column("batch_id", sa.String(40), primary_key=True),
        sa.Column("row", sa.Integer, primary_key=True),
        sa.Column("communication_id", sa.String(40), nullable=True),
        sa.Column("errors", sa.Text, nullable=True),
    )


def downgrade() -> None:
    op.drop_table("batch_rows")
    op.drop_table("batches")
