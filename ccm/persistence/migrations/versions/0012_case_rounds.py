"""RN 593 ladder rounds: a case whose attempts ran out starts a new round of its ladder
on contact data no attempt tried; attempts are unique within their round.

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

# SQLite keeps 0011's unique constraint unnamed; batch mode names it by this convention.
_NAMING = {"uq": "uq_%(table_name)s_%(column_0_name)s"}
_COLUMNS = ["case_id", "step", "slot", "channel"]


def _unique_name(columns: list[str]) -> str:
    inspector = sa.inspect(op.get_bind())
    for constraint in inspector.get_unique_constraints("case_attempts"):
        if constraint["column_names"] == columns:
            return str(constraint["name"] or f"uq_case_attempts_{columns[0]}")
    raise RuntimeError(f"case_attempts has no unique constraint on {columns}")


def upgrade() -> None:
    op.add_column("cases", sa.Column("round", sa.Integer, nullable=False, server_default="0"))
    old = _unique_name(_COLUMNS)
    with op.batch_alter_table("case_attempts", naming_convention=_NAMING) as batch:
        batch.add_column(sa.Column("round", sa.Integer, nullable=False, server_default="0"))
        batch.drop_constraint(old, type_="unique")
        batch.create_unique_constraint(
            "uq_case_attempts_round", ["case_id", "round", "step", "slot", "channel"]
        )


def downgrade() -> None:
    later = op.get_bind().execute(sa.text("SELECT count(*) FROM case_attempts WHERE round > 0"))
    if count := later.scalar():
        raise RuntimeError(
            f"cannot downgrade below 0012: {count} ladder attempt(s) belong to a later round, "
            "which 0011 cannot hold"
        )
    with op.batch_alter_table("case_attempts", naming_convention=_NAMING) as batch:
        batch.drop_constraint("uq_case_attempts_round", type_="unique")
        batch.drop_column("round")
        batch.create_unique_constraint("uq_case_attempts_case_id", _COLUMNS)
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("round")
