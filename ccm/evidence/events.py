"""The evidence vocabulary: one set of events for every channel.

Event types follow ETSI EN 319 522 registered-delivery evidence (domain.md section 8.2);
each carries the ETSI event URI it maps to, or a ``urn:ccm`` URI for the steps ETSI does
not name (composition, signing, exhausted attempts, cancellation). Where the issue's
wording and the third-party ETSI profiles differ, we follow the issue: *handed over* is
delivery to a mailbox, handset or address; *consigned* is content made available on a
page; *accessed* is an open or a displayed MDN. The exact EN 319 522-1 meanings are still
to be confirmed against the standard (domain.md caveat).

An :class:`EvidenceEvent` is what a caller records; the ledger adds its position, the
links to previous events and the hashes, producing an :class:`EvidenceRecord`.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum

__all__ = [
    "DETAIL_KEYS",
    "ArtifactRef",
    "Channel",
    "EventType",
    "EvidenceEvent",
    "NEGATIVE_EVENTS",
]

_ETSI = "http://uri.etsi.org/19522/Event/"
_CCM = "urn:ccm:evidence:event:"


class EventType(StrEnum):
    """What happened to a communication; :attr:`uri` names the ETSI event."""

    SUBMISSION_ACCEPTED = "submission_accepted"
    SUBMISSION_REJECTED = "submission_rejected"
    CONTENT_COMPOSED = "content_composed"
    DOCUMENT_SIGNED = "document_signed"
    RELAY_ACCEPTED = "relay_accepted"
    """The provider (SMTP server, SES, Twilio, the post office) took the message."""
    RELAY_FAILED = "relay_failed"
    CONTENT_HANDED_OVER = "content_handed_over"
    """Delivered to the mailbox, the handset or the address."""
    HANDOVER_FAILED = "handover_failed"
    CONTENT_CONSIGNED = "content_consigned"
    """Made available to the recipient on a page."""
    CONTENT_ACCESSED = "content_accessed"
    """Opened: an MDN "displayed", a tracking pixel, a page visit."""
    RECIPIENT_ACCEPTED = "recipient_accepted"
    """The recipient acknowledged: a reply, data confirmed on a call, "Li e estou ciente",
    an AR returned, a signed receipt."""
    RECIPIENT_REJECTED = "recipient_rejected"
    """The recipient refused the letter or disputes the content."""
    EXPIRED = "expired"
    ATTEMPTS_EXHAUSTED = "attempts_exhausted"
    CANCELLED = "cancelled"
    DISPUTE_ANSWERED = "dispute_answered"
    """The operator answered a dispute; the payment window restarts from it (R9)."""
    DECISION_RECORDED = "decision_recorded"
    """A suspension or termination decided on a case, naming its proving events (R24)."""
    EVIDENCE_RETRIEVED = "evidence_retrieved"
    """Someone retrieved this communication's document, events or evidence pack."""

    @property
    def uri(self) -> str:
        """The ETSI EN 319 522-3 event identifier, or ccm's own for steps ETSI lacks."""
        return _URIS[self]


_URIS: dict[EventType, str] = {
    EventType.SUBMISSION_ACCEPTED: _ETSI + "SubmissionAcceptance",
    EventType.SUBMISSION_REJECTED: _ETSI + "SubmissionRejection",
    EventType.CONTENT_COMPOSED: _CCM + "ContentComposed",
    EventType.DOCUMENT_SIGNED: _CCM + "DocumentSigned",
    # Our providers are not ERDSs: handing the message to them is a relay to a non-ERDS
    # system in EN 319 522 terms.
    EventType.RELAY_ACCEPTED: _ETSI + "RelayToNonERDS",
    EventType.RELAY_FAILED: _ETSI + "RelayToNonERDSFailure",
    EventType.CONTENT_HANDED_OVER: _ETSI + "ContentHandover",
    EventType.HANDOVER_FAILED: _ETSI + "ContentHandoverFailure",
    EventType.CONTENT_CONSIGNED: _ETSI + "ContentConsignment",
    EventType.CONTENT_ACCESSED: _ETSI + "ContentAccessTracking",
    EventType.RECIPIENT_ACCEPTED: _ETSI + "ConsignmentAcceptance",
    EventType.RECIPIENT_REJECTED: _ETSI + "ConsignmentRejection",
    EventType.EXPIRED: _ETSI + "AcceptanceRejectionExpiry",
    EventType.ATTEMPTS_EXHAUSTED: _CCM + "AttemptsExhausted",
    EventType.CANCELLED: _CCM + "Cancellation",
    EventType.DISPUTE_ANSWERED: _CCM + "DisputeAnswered",
    EventType.DECISION_RECORDED: _CCM + "DecisionRecorded",
    EventType.EVIDENCE_RETRIEVED: _CCM + "EvidenceRetrieval",
}

NEGATIVE_EVENTS = frozenset(
    {
        EventType.SUBMISSION_REJECTED,
        EventType.RELAY_FAILED,
        EventType.HANDOVER_FAILED,
        EventType.RECIPIENT_REJECTED,
        EventType.EXPIRED,
        EventType.ATTEMPTS_EXHAUSTED,
        EventType.CANCELLED,
    }
)
"""Events that must state their reasons (EN 319 522 EventReasons)."""


class Channel(StrEnum):
    """The RN 593 art. 8 channels, plus ``system`` for steps on no channel."""

    EMAIL = "email"
    SMS = "sms"
    WHATSAPP = "whatsapp"
    IVR = "ivr"
    AGENT_CALL = "agent_call"
    REGISTERED_MAIL = "registered_mail"
    IN_PERSON = "in_person"
    SYSTEM = "system"


DETAIL_KEYS = frozenset(
    {
        "method",
        "signature",
        "template",
        "template_version",
        "template_digest",
        "document_id",
        "protocol",
        "provider_status",
        "disposition",
        "tracking_code",
        "keyword",
        "attempt",
        "sandbox",
        "recording_seconds",
        "identity_items",
        "legal_basis",
        "evidence_ids",
        "answered_on",
    }
)
"""The only keys an event's ``details`` may carry. Anything else is refused, so health
data (rule R45) and stray personal data cannot slip into the ledger through a free-form
field; artefacts hold content, events hold hashes."""

_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True, slots=True, kw_only=True)
class ArtifactRef:
    """An artefact the event stands on (a signed PDF, the e-mail bytes, a recording)."""

    role: str
    """What the artefact is to this event: ``signed_document``, ``message``, ``mdn``..."""
    sha256: str
    media_type: str

    def __post_init__(self) -> None:
        if not _SHA256.fullmatch(self.sha256):
            raise ValueError(f"artifacts.{self.role}.sha256: must be 64 lowercase hex digits")


@dataclass(frozen=True, slots=True, kw_only=True)
class EvidenceEvent:
    """One signal about one communication, as a caller reports it."""

    communication_id: str
    type: EventType
    channel: Channel
    occurred_at: datetime
    """When it happened (provider's time when the provider says), timezone-aware."""
    actor: str
    """Who caused it: ``ccm``, ``provider:ses``, ``recipient``, ``agent:1234``..."""
    case_id: str | None = None
    provider: str | None = None
    provider_message_id: str | None = None
    provider_event_id: str | None = None
    payload_sha256: str | None = None
    """SHA-256 of the raw provider payload (the payload itself is an artefact)."""
    artifacts: tuple[ArtifactRef, ...] = ()
    reasons: tuple[str, ...] = ()
    """Why, on negative events (mandatory there)."""
    details: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.occurred_at.tzinfo is None or self.occurred_at.utcoffset() is None:
            raise ValueError("occurred_at: must be timezone-aware")
        if not self.communication_id:
            raise ValueError("communication_id: must not be empty")
        if self.type in NEGATIVE_EVENTS and not self.reasons:
            raise ValueError(f"reasons: required on negative event {self.type}")
        for key, value in self.details.items():
            if not isinstance(value, str):
                raise ValueError(f"details.{key}: must be a string")
        if not all(isinstance(reason, str) for reason in self.reasons):
            raise ValueError("reasons: must be strings")
        unknown = sorted(set(self.details) - DETAIL_KEYS)
        if unknown:
            raise ValueError(
                f"details.{unknown[0]}: not an allowed evidence detail "
                "(events carry hashes and facts, never health or free-form personal data)"
            )
        if self.payload_sha256 is not None and not _SHA256.fullmatch(self.payload_sha256):
            raise ValueError("payload_sha256: must be 64 lowercase hex digits")

    @property
    def occurred_at_utc(self) -> datetime:
        return self.occurred_at.astimezone(UTC)
