"""Template versions: drafts, submissions, approvals, and the library's shipped versions.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "template_versions",
        sa.Column("template_id", sa.String(80), primary_key=True),
        sa.Column("version", sa.String(20), primary_key=True),
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("origin", sa.String(10), nullable=False),
        sa.Column("base_version", sa.String(20), nullable=True),
        sa.Column("files", sa.Text, nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("authors", sa.Text, nullable=False),
        sa.Column("log", sa.Text, nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("template_versions")
