"""Daily sequences for protocol numbers.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "daily_sequences",
        sa.Column("scope", sa.String(120), primary_key=True),
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("value", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("daily_sequences")
