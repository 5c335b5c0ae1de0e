"""What rendering one channel of a communication produces."""

from dataclasses import dataclass

from ccm.composition.channels import Channel
from ccm.composition.sms import SmsEncoding

__all__ = [
    "AgentScriptRendering",
    "DocumentRendering",
    "EmailRendering",
    "Rendering",
    "ScriptStep",
    "TextRendering",
    "VoiceRendering",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class Rendering:
    """Provenance shared by every channel's output."""

    channel: Channel
    template: str
    """``id@version/locale``."""
    template_digest: str
    """SHA-256 of the template variant's files."""
    shared_digest: str
    """SHA-256 of the shared layouts, stylesheets and fonts."""
    brand: str
    """Id of the brand (logo, colours) the rendering used."""
    brand_digest: str
    document_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class DocumentRendering(Rendering):
    html: str
    pdf: bytes
    pages: int
    signed: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class EmailRendering(Rendering):
    subject: str
    html: str
    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class TextRendering(Rendering):
    """SMS or WhatsApp text."""

    text: str
    sms: SmsEncoding | None = None
    """Encoding and segment count, for SMS."""
    variables: tuple[tuple[str, str], ...] = ()
    """WhatsApp: the values of the approved template's placeholders, in order."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ScriptStep:
    """One step of a call script."""

    id: str
    text: str
    """Plain text (voice) or HTML (agent script)."""
    gather_digits: int | None = None
    """For voice identity prompts: how many keypad digits to collect."""
    discloses: bool = False
    """True for the only step allowed to speak about the debt."""


@dataclass(frozen=True, slots=True, kw_only=True)
class VoiceRendering(Rendering):
    """An IVR script: greeting, recording notice, identity check, then the notice."""

    steps: tuple[ScriptStep, ...]
    identity_items: tuple[str, ...]
    max_attempts: int

    @property
    def text(self) -> str:
        return "\n\n".join(f"[{s.id}] {s.text}" for s in self.steps)


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentScriptRendering(Rendering):
    html: str
    steps: tuple[ScriptStep, ...]
