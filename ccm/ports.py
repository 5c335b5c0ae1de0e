"""Ports: what the core needs from the outside, as small protocols.

Adapters live in ``signing/``, ``channels/`` and ``ccm/persistence``; ``ccm.bootstrap``
wires them in.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from typing import Protocol

__all__ = [
    "IVR_SCRIPT_MEDIA_TYPE",
    "WHATSAPP_TEMPLATE_MEDIA_TYPE",
    "ArtifactStore",
    "ChannelAdapter",
    "OutgoingMessage",
    "EmailSender",
    "MessageSigner",
    "ProviderSignal",
    "RecordingSource",
    "SendReceipt",
    "DocumentSigner",
    "Sealer",
    "SignatureCheck",
    "SignatureVerifier",
    "StoredArtifact",
]


class DocumentSigner(Protocol):
    """Signs a PDF, returning the signed bytes (an incremental update of the input)."""

    def sign(self, pdf: bytes) -> bytes:
        """Sign ``pdf``.

        Raises:
            SigningError: the key, certificate or timestamp authority failed.
        """
        ...


class Sealer(Protocol):
    """Seals data with the operator's key: a detached CMS signature carrying an RFC 3161
    signature timestamp (CAdES-T), which ``openssl cms -verify`` can also check."""

    def seal(self, data: bytes) -> bytes:
        """Return the DER-encoded CMS ``SignedData`` over ``data`` (detached).

        Raises:
            SigningError: the key, certificate or timestamp authority failed.
        """
        ...

    def certificates_pem(self) -> bytes:
        """The sealing certificate and its chain, PEM, signer first."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class SignatureCheck:
    """The outcome of checking one signature (a seal or a PDF signature)."""

    ok: bool
    signer: str | None = None
    """Subject of the signing certificate."""
    signed_at: datetime | None = None
    """The time asserted by the signature's RFC 3161 timestamp."""
    problems: tuple[str, ...] = ()
    """What failed, in plain words; empty when ``ok``."""
    certificates: tuple[bytes, ...] = ()
    """DER of the certificates embedded in the signature."""
    signer_certificate: bytes | None = None
    """DER of the certificate that made the signature."""


class SignatureVerifier(Protocol):
    """Checks signatures offline against fixed trust anchors, with no network."""

    def verify_seal(self, data: bytes, seal: bytes) -> SignatureCheck:
        """Check a detached CMS seal over ``data``, its chain and its timestamp."""
        ...

    def verify_pdf(self, pdf: bytes) -> list[SignatureCheck]:
        """Check every signature in ``pdf``; an unsigned PDF gives an empty list."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredArtifact:
    """Where an artefact lives once stored."""

    sha256: str
    size: int
    location: str
    """A path or an ``s3://bucket/key`` URL."""


class ArtifactStore(Protocol):
    """Content-addressed storage for evidence artefacts (write once, never overwrite)."""

    def put(self, data: bytes, *, media_type: str) -> StoredArtifact:
        """Store ``data`` under its SHA-256; storing the same bytes again is a no-op.

        Raises:
            StorageError: the backend refused or failed.
        """
        ...

    def get(self, sha256: str) -> bytes:
        """The bytes stored under ``sha256``, checked against it.

        Raises:
            ArtifactNotFound: nothing is stored under ``sha256``.
            StorageError: the stored bytes no longer match their hash, or the backend failed.
        """
        ...

    def exists(self, sha256: str) -> bool:
        """Whether something is stored under ``sha256``."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class SendReceipt:
    """What a provider said when it took a message."""

    provider: str
    provider_message_id: str
    accepted_at: datetime
    raw_response: bytes
    """The provider's answer as received (kept as an artefact)."""
    sandbox: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class ProviderSignal:
    """A later signal about a sent message (a callback, a DSN, an MDN), raw and dated."""

    kind: str
    """``delivered``, ``mdn``, ``bounced``..."""
    occurred_at: datetime
    raw: bytes
    media_type: str
    details: Mapping[str, str] = field(default_factory=dict)
    """Extra payload for the event (a call's ``recording_sid``...)."""


class EmailSender(Protocol):
    """Sends one complete RFC 5322 message."""

    provider: str

    def send(self, message: bytes, *, communication_id: str) -> SendReceipt:
        """Hand ``message`` to the provider.

        Raises:
            ChannelError: the provider refused or could not be reached.
        """
        ...


WHATSAPP_TEMPLATE_MEDIA_TYPE = "application/vnd.ccm.whatsapp-template+json"
"""An outgoing WhatsApp message with the values of its approved template's placeholders:
``{"template": id, "body": text, "variables": {"1": ...}}``."""


IVR_SCRIPT_MEDIA_TYPE = "application/vnd.ccm.ivr-script+json"
"""An IVR call's script: ``{"template", "language", "steps": {id: text},
"identity_items": [...], "max_attempts": n}``; the steps are played in the order of
:data:`ccm.composition.scripts.VOICE_STEPS`."""


class RecordingSource(Protocol):
    """A channel whose provider keeps call recordings ccm must fetch and keep."""

    def fetch_recording(self, recording_id: str) -> tuple[bytes, str]:
        """The recording's bytes and media type.

        Raises:
            ChannelError: the provider could not be reached (try again later).
        """
        ...


class MessageSigner(Protocol):
    """Signs complete e-mail messages (S/MIME)."""

    def sign_message(self, message: EmailMessage) -> bytes:
        """The message with its body signed, as the exact bytes to send.

        Raises:
            SigningError: the signature could not be made.
        """
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class OutgoingMessage:
    """One message for one channel, ready for a provider."""

    channel: str
    communication_id: str
    idempotency_key: str
    """Stable across retries: ``<communication>:<channel>``; providers that accept one get it."""
    payload: bytes
    media_type: str
    address: str
    """Where it goes: an e-mail address, a phone number, a postal address line."""
    reference: str | None = None
    """What the recipient will be told to quote: the protocol number of a call."""


class ChannelAdapter(Protocol):
    """Sends messages on one channel and says which provider signals will follow."""

    channel: str
    provider: str

    def send(self, message: OutgoingMessage) -> SendReceipt:
        """Hand ``message`` to the provider; sending the same idempotency key again must
        not send twice.

        Raises:
            ChannelError: the provider refused or could not be reached.
        """
        ...

    def expected_signals(
        self, message: OutgoingMessage, receipt: SendReceipt
    ) -> list[ProviderSignal]:
        """Signals a sandbox simulates (a real provider's arrive by webhook: empty list)."""
        ...
