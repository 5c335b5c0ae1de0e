"""Recipients (contacts with provenance, channel preferences) and their history.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "recipients",
        sa.Column("owner", sa.String(40), primary_key=True),
        sa.Column("id", sa.String(120), primary_key=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("profile", sa.Text, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(40), nullable=False),
    )
    op.create_table(
        "recipient_history",
        sa.Column("owner", sa.String(40), primary_key=True),
        sa.Column("recipient_id", sa.String(120), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("profile", sa.Text, nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_by", sa.String(40), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("recipient_history")
    op.drop_table("recipients")
