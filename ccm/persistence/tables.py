"""Table definitions (SQLAlchemy Core). Alembic migrations create and evolve them."""

from sqlalchemy import Column, Date, Integer, LargeBinary, MetaData, String, Table, Text

__all__ = ["daily_sequences", "evidence_checkpoints", "evidence_events", "metadata"]

metadata = MetaData()

daily_sequences = Table(
    "daily_sequences",
    metadata,
    Column("scope", String(120), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("value", Integer, nullable=False),
)
"""Gap-free counters per scope and day (e.g. ANS protocol numbers per operator)."""

evidence_events = Table(
    "evidence_events",
    metadata,
    Column("position", Integer, primary_key=True, autoincrement=False),
    Column("id", String(36), nullable=False, unique=True),
    Column("communication_id", String(120), nullable=False, index=True),
    Column("case_id", String(120), nullable=True, index=True),
    Column("type", String(40), nullable=False),
    Column("body", Text, nullable=False),
    Column("hash", String(64), nullable=False),
)
"""The append-only evidence ledger: canonical JSON bodies and their SHA-256.

``position`` is the Merkle leaf index; the primary key makes concurrent appends
conflict, so the chain never forks."""

evidence_checkpoints = Table(
    "evidence_checkpoints",
    metadata,
    Column("tree_size", Integer, primary_key=True, autoincrement=False),
    Column("root_hash", String(64), nullable=False),
    Column("issued_at", String(32), nullable=False),
    Column("ledger", String(120), nullable=False),
    Column("seal", LargeBinary, nullable=False),
)
"""Signed and timestamped tree heads."""
