"""The service: communications, deliveries, the job outbox, API keys.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "communications",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("template", sa.String(80), nullable=False),
        sa.Column("template_version", sa.String(40), nullable=False),
        sa.Column("locale", sa.String(10), nullable=False),
        sa.Column("data", sa.Text, nullable=False),
        sa.Column("recipient", sa.Text, nullable=False),
        sa.Column("channels", sa.Text, nullable=False),
        sa.Column("case_id", sa.String(120), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("submitted_by", sa.String(40), nullable=False),
        sa.Column("idempotency_key", sa.String(200), nullable=True),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("document_id", sa.String(64), nullable=True),
        sa.Column("document_sha256", sa.String(64), nullable=True),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.Column("updated_at", _WHEN, nullable=False),
        sa.UniqueConstraint(
            "submitted_by", "idempotency_key", name="uq_communications_idempotency"
        ),
    )
    op.create_index("ix_communications_case_id", "communications", ["case_id"])
    op.create_table(
        "deliveries",
        sa.Column("communication_id", sa.String(40), primary_key=True),
        sa.Column("channel", sa.String(20), primary_key=True),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("provider", sa.String(40), nullable=True),
        sa.Column("provider_message_id", sa.String(200), nullable=True),
        sa.Column("updated_at", _WHEN, nullable=False),
    )
    op.create_table(
        "jobs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("communication_id", sa.String(40), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("channel", sa.String(20), nullable=True),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("run_after", _WHEN, nullable=False),
        sa.Column("lease_until", _WHEN, nullable=True),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("worker", sa.String(80), nullable=True),
        sa.Column("created_at", _WHEN, nullable=False),
    )
    op.create_index("ix_jobs_communication_id", "jobs", ["communication_id"])
    op.create_index("ix_jobs_state", "jobs", ["state"])
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(16), primary_key=True),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("secret_hash", sa.String(64), nullable=False),
        sa.Column("roles", sa.String(200), nullable=False),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.Column("revoked_at", _WHEN, nullable=True),
    )


def downgrade() -> None:
    op.drop_table("api_keys")
    op.drop_index("ix_jobs_state", "jobs")
    op.drop_index("ix_jobs_communication_id", "jobs")
    op.drop_table("jobs")
    op.drop_table("deliveries")
    op.drop_index("ix_communications_case_id", "communications")
    op.drop_table("communications")
