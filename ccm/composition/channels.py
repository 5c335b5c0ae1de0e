"""The channel variants a template can have, and the sources each one is made of."""

from enum import StrEnum

__all__ = ["Channel", "SOURCES"]


class Channel(StrEnum):
    """A form of one communication: the archival document or a channel's message."""

    DOCUMENT = "document"
    """HTML + CSS rendered to a signed PDF/A-3b."""
    EMAIL = "email"
    """Subject, HTML body and plain-text body."""
    SMS = "sms"
    WHATSAPP = "whatsapp"
    VOICE = "voice"
    """An IVR script: ordered prompts, identity check before the notice."""
    AGENT_SCRIPT = "agent_script"
    """The page a call-centre agent reads, in the order the call procedure requires."""


SOURCES: dict[Channel, tuple[str, ...]] = {
    Channel.DOCUMENT: ("document.html.j2",),
    Channel.EMAIL: ("email_subject.txt.j2", "email.html.j2", "email.txt.j2"),
    Channel.SMS: ("sms.txt.j2",),
    Channel.WHATSAPP: ("whatsapp.txt.j2",),
    Channel.VOICE: ("voice.txt.j2",),
    Channel.AGENT_SCRIPT: ("agent_script.html.j2",),
}
"""Source files per channel, inside a template's locale folder."""
