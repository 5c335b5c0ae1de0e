"""Evidence records: an event sealed into the ledger, and signed tree heads.

A record's ``hash`` is SHA-256 over the RFC 8785 (JCS) canonical JSON of every other
field, so any verifier in any language can recompute it from ``events.jsonl``. Its
Merkle leaf is ``SHA-256(0x00 || hash)``. Each record links to the previous record of
the whole ledger (``prev_hash``) and to the previous record of the same communication
(``communication_prev_hash``); the second link lets a pack, which holds one
communication's events only, show that none was dropped or reordered.
"""

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import rfc8785

from ccm.evidence.events import EvidenceEvent
from ccm.evidence.merkle import leaf_hash
from ccm.evidence.proof import assess

__all__ = [
    "EVENT_SCHEMA",
    "GENESIS",
    "TREE_HEAD_SCHEMA",
    "EvidenceRecord",
    "TreeHead",
    "canonical",
    "jcs",
    "iso_utc",
    "seal_event",
]

EVENT_SCHEMA = "ccm.evidence.event/1"
TREE_HEAD_SCHEMA = "ccm.evidence.tree-head/1"
GENESIS = "0" * 64
"""``prev_hash`` of the first record."""


def canonical(value: Any) -> bytes:
    """RFC 8785 (JCS) canonical JSON bytes of a value without floats.

    For strings, integers below 2**53, booleans, null, lists and objects with ASCII keys,
    JCS output is exactly ``json.dumps(sort_keys=True, ensure_ascii=False)`` with
    compact separators (same escapes, lowercase ``\\u00xx``), and that is about 40
    times faster than a general JCS encoder. Evidence bodies hold nothing else; the pack
    verifier recomputes hashes with the reference encoder (``rfc8785``), and a test
    checks the two agree, including on awkward Unicode.
    """
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def jcs(value: Any) -> bytes:
    """RFC 8785 canonical JSON by the reference encoder (any JSON value)."""
    return rfc8785.dumps(value)


def iso_utc(moment: datetime) -> str:
    """``2026-11-21T14:03:00.123456Z``: one fixed form so hashes are reproducible."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class EvidenceRecord:
    """One event as the ledger holds it: canonical body plus its hash."""

    body: dict[str, Any]
    hash: str
    text: bytes | None = field(default=None, compare=False)
    """The canonical body as stored, when known (saves re-encoding)."""

    @property
    def index(self) -> int:
        return int(self.body["index"])

    @property
    def id(self) -> str:
        return str(self.body["id"])

    @property
    def communication_id(self) -> str:
        return str(self.body["communication_id"])

    @property
    def leaf(self) -> bytes:
        """The record's Merkle leaf hash."""
        return leaf_hash(bytes.fromhex(self.hash))

    def canonical_body(self) -> bytes:
        return self.text if self.text is not None else canonical(self.body)

    def recomputed_hash(self) -> str:
        return hashlib.sha256(self.canonical_body()).hexdigest()

    def as_json(self) -> dict[str, Any]:
        """The record as a JSON object, body and hash (one line of ``events.jsonl``)."""
        return {**self.body, "hash": self.hash}

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> "EvidenceRecord":
        body = dict(value)
        digest = body.pop("hash", None)
        if not isinstance(digest, str):
            raise ValueError("hash: missing")
        return cls(body=body, hash=digest)

    @classmethod
    def from_text(cls, body: str, digest: str) -> "EvidenceRecord":
        return cls(body=json.loads(body), hash=digest, text=body.encode())


def seal_event(
    event: EvidenceEvent,
    *,
    event_id: str,
    index: int,
    prev_hash: str,
    communication_prev_hash: str | None,
    recorded_at: datetime,
) -> EvidenceRecord:
    """Turn ``event`` into the record at ``index``, linked and hashed."""
    body: dict[str, Any] = {
        "schema": EVENT_SCHEMA,
        "index": index,
        "id": event_id,
        "communication_id": event.communication_id,
        "case_id": event.case_id,
        "type": str(event.type),
        "etsi_event": event.type.uri,
        "channel": str(event.channel),
        "occurred_at": iso_utc(event.occurred_at),
        "recorded_at": iso_utc(recorded_at),
        "actor": event.actor,
        "provider": event.provider,
        "provider_message_id": event.provider_message_id,
        "provider_event_id": event.provider_event_id,
        "payload_sha256": event.payload_sha256,
        "artifacts": [
            {"role": a.role, "sha256": a.sha256, "media_type": a.media_type}
            for a in event.artifacts
        ],
        "reasons": list(event.reasons),
        "details": dict(sorted(event.details.items())),
        "legal_proof": assess(event).as_json(),
        "prev_hash": prev_hash,
        "communication_prev_hash": communication_prev_hash,
    }
    text = canonical(body)
    return EvidenceRecord(body=body, hash=hashlib.sha256(text).hexdigest(), text=text)


@dataclass(frozen=True, slots=True, kw_only=True)
class TreeHead:
    """A signed statement of the ledger's Merkle root at one size (a checkpoint)."""

    ledger: str
    tree_size: int
    root_hash: str
    issued_at: str
    seal: bytes
    """Detached CMS signature over :meth:`signed_bytes`, with an RFC 3161 timestamp."""

    def as_json(self) -> dict[str, Any]:
        return {
            "schema": TREE_HEAD_SCHEMA,
            "ledger": self.ledger,
            "tree_size": self.tree_size,
            "root_hash": self.root_hash,
            "issued_at": self.issued_at,
        }

    def signed_bytes(self) -> bytes:
        """The exact bytes the seal signs (canonical JSON of :meth:`as_json`)."""
        return canonical(self.as_json())

    @classmethod
    def from_json(cls, value: dict[str, Any], seal: bytes) -> "TreeHead":
        if value.get("schema") != TREE_HEAD_SCHEMA:
            raise ValueError(f"schema: expected {TREE_HEAD_SCHEMA!r}")
        return cls(
            ledger=str(value["ledger"]),
            tree_size=int(value["tree_size"]),
            root_hash=str(value["root_hash"]),
            issued_at=str(value["issued_at"]),
            seal=seal,
        )
