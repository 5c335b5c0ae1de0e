"""Evidence ledger and its signed checkpoints.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "evidence_events",
        sa.Column("position", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("id", sa.String(36), nullable=False, unique=True),
        sa.Column("communication_id", sa.String(120), nullable=False),
        sa.Column("case_id", sa.String(120), nullable=True),
        sa.Column("type", sa.String(40), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.create_index("ix_evidence_events_communication_id", "evidence_events", ["communication_id"])
    op.create_index("ix_evidence_events_case_id", "evidence_events", ["case_id"])
    op.create_table(
        "evidence_checkpoints",
        sa.Column("tree_size", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("root_hash", sa.String(64), nullable=False),
        sa.Column("issued_at", sa.String(32), nullable=False),
        sa.Column("ledger", sa.String(120), nullable=False),
        sa.Column("seal", sa.LargeBinary, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("evidence_checkpoints")
    op.drop_index("ix_evidence_events_case_id", "evidence_events")
    op.drop_index("ix_evidence_events_communication_id", "evidence_events")
    op.drop_table("evidence_events")
