"""Table definitions (SQLAlchemy Core). Alembic migrations create and evolve them."""

from sqlalchemy import Column, Date, Integer, MetaData, String, Table

__all__ = ["daily_sequences", "metadata"]

metadata = MetaData()

daily_sequences = Table(
    "daily_sequences",
    metadata,
    Column("scope", String(120), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("value", Integer, nullable=False),
)
"""Gap-free counters per scope and day (e.g. ANS protocol numbers per operator)."""
