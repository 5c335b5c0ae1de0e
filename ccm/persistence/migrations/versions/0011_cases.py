"""RN 593 delinquency cases, their ladder attempts, disputes and decisions.

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cases",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("contract_id", sa.String(120), nullable=False, index=True),
        sa.Column("open_contract", sa.String(120), nullable=True, unique=True),
        sa.Column("content", sa.Text, nullable=False),
        sa.Column("profile", sa.Text, nullable=False),
        sa.Column("state", sa.String(16), nullable=False, index=True),
        sa.Column("protocol", sa.String(40), nullable=True),
        sa.Column("imported_by", sa.String(40), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("proved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "case_attempts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("case_id", sa.String(40), nullable=False, index=True),
        sa.Column("step", sa.Integer, nullable=False),
        sa.Column("slot", sa.Integer, nullable=False),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("communication_id", sa.String(40), nullable=True),
        sa.Column("note", sa.Text, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("case_id", "step", "slot", "channel"),
    )
    op.create_table(
        "case_disputes",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("case_id", sa.String(40), nullable=False, index=True),
        sa.Column("opened_on", sa.Date, nullable=False),
        sa.Column("method", sa.String(40), nullable=False),
        sa.Column("evidence_id", sa.String(80), nullable=True, unique=True),
        sa.Column("answered_on", sa.Date, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "case_decisions",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("case_id", sa.String(40), nullable=False, index=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("decided_on", sa.Date, nullable=False),
        sa.Column("decided_by", sa.String(80), nullable=False),
        sa.Column("evidence_ids", sa.Text, nullable=False),
        sa.Column("evaluation", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    for table in ("case_decisions", "case_disputes", "case_attempts", "cases"):
        op.drop_table(table)
