"""Table definitions (SQLAlchemy Core). Alembic migrations create and evolve them."""

from sqlalchemy import (
    Column,
    Date,
    DateTime,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

__all__ = [
    "api_keys",
    "batch_rows",
    "batches",
    "case_attempts",
    "case_decisions",
    "case_disputes",
    "cases",
    "communications",
    "daily_sequences",
    "deliveries",
    "early_signals",
    "evidence_checkpoints",
    "evidence_events",
    "ivr_calls",
    "jobs",
    "metadata",
    "recipient_history",
    "recipients",
    "letters",
    "page_attempts",
    "template_versions",
]

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

communications = Table(
    "communications",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("template", String(80), nullable=False),
    Column("template_version", String(40), nullable=False),
    Column("locale", String(10), nullable=False),
    Column("data", Text, nullable=False),
    Column("recipient", Text, nullable=False),
    Column("channels", Text, nullable=False),
    Column("case_id", String(120), nullable=True, index=True),
    Column("status", String(20), nullable=False),
    Column("submitted_by", String(40), nullable=False),
    Column("idempotency_key", String(200), nullable=True),
    Column("request_hash", String(64), nullable=False),
    Column("document_id", String(64), nullable=True),
    Column("document_sha256", String(64), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("submitted_by", "idempotency_key", name="uq_communications_idempotency"),
)
"""What a client asked for, and where it stands. ``data`` and ``recipient`` hold the
request as JSON (personal data stays here, never in evidence events)."""

deliveries = Table(
    "deliveries",
    metadata,
    Column("communication_id", String(40), primary_key=True),
    Column("channel", String(20), primary_key=True),
    Column("state", String(20), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("provider", String(40), nullable=True),
    Column("provider_message_id", String(200), nullable=True),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
"""One row per communication and channel: the idempotency claim for sending (recorded
before the provider is called, stable across retries) and the channel's state."""

jobs = Table(
    "jobs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("communication_id", String(40), nullable=False, index=True),
    Column("kind", String(20), nullable=False),
    Column("channel", String(20), nullable=True),
    Column("payload", Text, nullable=False),
    Column("state", String(12), nullable=False, index=True),
    Column("run_after", DateTime(timezone=True), nullable=False),
    Column("lease_until", DateTime(timezone=True), nullable=True),
    Column("attempts", Integer, nullable=False),
    Column("last_error", Text, nullable=True),
    Column("worker", String(80), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
"""The transactional outbox: jobs written with the request, enqueued from here, done once."""

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(16), primary_key=True),
    Column("name", String(120), nullable=False),
    Column("secret_hash", String(64), nullable=False),
    Column("roles", String(200), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
)
"""API keys: ``ccm_<id>_<secret>``; only the SHA-256 of the secret is stored."""

batches = Table(
    "batches",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("submitted_by", String(40), nullable=False),
    Column("format", String(10), nullable=False),
    Column("total", Integer, nullable=False),
    Column("accepted", Integer, nullable=False),
    Column("rejected", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
"""An uploaded file of requests (JSONL or CSV)."""

batch_rows = Table(
    "batch_rows",
    metadata,
    Column("batch_id", String(40), primary_key=True),
    Column("row", Integer, primary_key=True),
    Column("communication_id", String(40), nullable=True),
    Column("errors", Text, nullable=True),
)
"""Each row of a batch: the communication it became, or why it was rejected."""

recipients = Table(
    "recipients",
    metadata,
    Column("owner", String(40), primary_key=True),
    Column("id", String(120), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("profile", Text, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("updated_by", String(40), nullable=False),
)
"""Recipients: contacts with provenance and channel preferences (the current version),
one namespace per client system (``owner`` is its API key id)."""

recipient_history = Table(
    "recipient_history",
    metadata,
    Column("owner", String(40), primary_key=True),
    Column("recipient_id", String(120), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("profile", Text, nullable=False),
    Column("changed_at", DateTime(timezone=True), nullable=False),
    Column("changed_by", String(40), nullable=False),
)
"""Every version of every recipient profile, never updated."""

template_versions = Table(
    "template_versions",
    metadata,
    Column("template_id", String(80), primary_key=True),
    Column("version", String(20), primary_key=True),
    Column("state", String(12), nullable=False),
    Column("origin", String(10), nullable=False),
    Column("base_version", String(20), nullable=True),
    Column("files", Text, nullable=False),
    Column("digest", String(64), nullable=False),
    Column("authors", Text, nullable=False),
    Column("log", Text, nullable=False),
    Column("revision", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
"""Every template version: its whole folder as text, its state and who did what."""

letters = Table(
    "letters",
    metadata,
    Column("communication_id", String(40), primary_key=True),
    Column("tracking_code", String(13), nullable=False, unique=True),
    Column("addressee", Text, nullable=False),
    Column("pdf_sha256", String(64), nullable=False),
    Column("state", String(12), nullable=False, index=True),
    Column("batch_id", String(40), nullable=True),
    Column("queued_at", DateTime(timezone=True), nullable=False),
    Column("exported_at", DateTime(timezone=True), nullable=True),
)
"""Registered letters waiting for the print house, and the print batch each went out in."""

page_attempts = Table(
    "page_attempts",
    metadata,
    Column("document_id", String(64), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
"""Wrong identity answers on a notice's confirmation page (locked after a few)."""

early_signals = Table(
    "early_signals",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("provider", String(40), nullable=False),
    Column("provider_message_id", String(200), nullable=False, index=True),
    Column("payload", Text, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
)
"""Provider callbacks that arrived before the send they are about was recorded; queued
as soon as it is."""

ivr_calls = Table(
    "ivr_calls",
    metadata,
    Column("token", String(40), primary_key=True),
    Column("communication_id", String(40), nullable=False, index=True),
    Column("idempotency_key", String(120), nullable=False, unique=True),
    Column("call_sid", String(64), nullable=True, index=True),
    Column("script", Text, nullable=False),
    Column("stage", String(12), nullable=False),
    Column("item_index", Integer, nullable=False),
    Column("mismatch", Integer, nullable=False),
    Column("rounds_failed", Integer, nullable=False),
    Column("notice_plays", Integer, nullable=False),
    Column("confirmed_at", DateTime(timezone=True), nullable=True),
    Column("notice_completed_at", DateTime(timezone=True), nullable=True),
    Column("recording_sid", String(64), nullable=True),
    Column("recording_status", String(12), nullable=True),
    Column("call_status", String(16), nullable=True),
    Column("concluded", Integer, nullable=False),
    Column("log", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
"""IVR calls in progress: where each call is in its script. What the person typed is
compared and forgotten; only whether it matched is kept."""

cases = Table(
    "cases",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("contract_id", String(120), nullable=False, index=True),
    Column("open_contract", String(120), nullable=True, unique=True),
    Column("content", Text, nullable=False),
    Column("profile", Text, nullable=False),
    Column("state", String(16), nullable=False, index=True),
    Column("protocol", String(40), nullable=True),
    Column("imported_by", String(40), nullable=False),
    Column("round", Integer, nullable=False, server_default="0"),
    Column("started_at", DateTime(timezone=True), nullable=True),
    Column("proved_at", DateTime(timezone=True), nullable=True),
    Column("closed_at", DateTime(timezone=True), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
"""RN 593 delinquency cases; ``open_contract`` holds the contract id while the case is
active (one active case per contract) and is cleared when it closes; ``round`` counts the
ladder's restarts (a case whose attempts were exhausted restarts on new contact data)."""

case_attempts = Table(
    "case_attempts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("case_id", String(40), nullable=False, index=True),
    Column("round", Integer, nullable=False, server_default="0"),
    Column("step", Integer, nullable=False),
    Column("slot", Integer, nullable=False),
    Column("channel", String(20), nullable=False),
    Column("state", String(12), nullable=False),
    Column("communication_id", String(40), nullable=True),
    Column("note", Text, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("case_id", "round", "step", "slot", "channel", name="uq_case_attempts_round"),
)

case_disputes = Table(
    "case_disputes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("case_id", String(40), nullable=False, index=True),
    Column("opened_on", Date, nullable=False),
    Column("method", String(40), nullable=False),
    Column("evidence_id", String(80), nullable=True, unique=True),
    Column("answered_on", Date, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

case_decisions = Table(
    "case_decisions",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("case_id", String(40), nullable=False, index=True),
    Column("kind", String(16), nullable=False),
    Column("decided_on", Date, nullable=False),
    Column("decided_by", String(80), nullable=False),
    Column("evidence_ids", Text, nullable=False),
    Column("evaluation", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
