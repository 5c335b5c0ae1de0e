"""Evidence: the event vocabulary, the tamper-evident ledger and verifiable evidence packs."""

from ccm.evidence.events import (
    DETAIL_KEYS,
    NEGATIVE_EVENTS,
    ArtifactRef,
    Channel,
    EventType,
    EvidenceEvent,
)
from ccm.evidence.merkle import MerkleTree, verify_consistency, verify_inclusion
from ccm.evidence.proof import LegalProof, assess

__all__ = [
    "DETAIL_KEYS",
    "NEGATIVE_EVENTS",
    "ArtifactRef",
    "Channel",
    "EventType",
    "EvidenceEvent",
    "LegalProof",
    "MerkleTree",
    "assess",
    "verify_consistency",
    "verify_inclusion",
]
