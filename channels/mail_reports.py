"""Reports that come back by mail: read receipts (RFC 8098) and delivery status
notifications (RFC 3464), reduced to what the evidence needs.

A DSN names the original message only in its third part (``text/rfc822-headers`` or
``message/rfc822``): the Message-ID found there is matched to the communication.
"""

from dataclasses import dataclass
from datetime import datetime
from email import message_from_bytes, message_from_string, policy
from email.message import Message

from sqlalchemy import Engine

from ccm.ports import ArtifactStore
from ccm.service.inbound import InboundSignal, record_signal
from channels.mdn import parse_mdn

__all__ = ["MailReport", "ReportOutcome", "read_report", "record_report", "sent_as"]


@dataclass(frozen=True, slots=True, kw_only=True)
class MailReport:
    kind: str
    """``mdn`` (read receipt), ``delivered``, ``bounce`` (failed) or ``delayed``."""
    original_message_id: str
    recipient: str
    disposition: str | None = None
    """For an MDN: ``displayed``, ``deleted``, ``dispatched`` or ``processed``."""
    reason: str | None = None
    """For a DSN: status code and the remote server's diagnostic."""


_ACTIONS = {"failed": "bounce", "delivered": "delivered", "delayed": "delayed"}


def _blocks(part: Message) -> list[dict[str, str]]:
    """The field blocks of a ``message/delivery-status`` part, lower-case names."""
    payload = part.get_payload()
    if isinstance(payload, list):
        sources = [str(p) for p in payload]
    else:
        decoded = part.get_payload(decode=True)
        text = decoded.decode("utf-8", "replace") if isinstance(decoded, bytes) else ""
        sources = text.replace("\r\n", "\n").split("\n\n")
    blocks = []
    for source in sources:
        parsed = message_from_string(source.strip("\n") + "\n", policy=policy.compat32)
        blocks.append({k.lower(): " ".join(str(v).split()) for k, v in parsed.items()})
    return [b for b in blocks if b]


def _original_message_id(report: Message) -> str:
    for part in report.walk():
        kind = part.get_content_type()
        if kind == "message/rfc822":
            inner = part.get_payload()
            if isinstance(inner, list) and inner and isinstance(inner[0], Message):
                return str(inner[0].get("Message-ID", "")).strip()
        if kind == "text/rfc822-headers":
            decoded = part.get_payload(decode=True)
            text = decoded.decode("utf-8", "replace") if isinstance(decoded, bytes) else ""
            return str(message_from_string(text).get("Message-ID", "")).strip()
    return ""


def read_report(raw: bytes) -> MailReport | None:
    """What ``raw`` reports, or ``None`` when it is neither an MDN nor a DSN."""
    mdn = parse_mdn(raw)
    if mdn is not None:
        return MailReport(
            kind="mdn",
            original_message_id=mdn.original_message_id,
            recipient=mdn.final_recipient,
            disposition=mdn.disposition,
        )
    message = message_from_bytes(raw, policy=policy.compat32)
    if message.get_content_type() != "multipart/report":
        return None
    for part in message.walk():
        if part.get_content_type() != "message/delivery-status":
            continue
        for block in _blocks(part)[1:]:  # the first block is about the message
            action = block.get("action", "").lower()
            if action not in _ACTIONS:
                continue
            status = block.get("status", "")
            diagnostic = block.get("diagnostic-code", "").partition(";")[2].strip()
            return MailReport(
                kind=_ACTIONS[action],
                original_message_id=_original_message_id(message),
                recipient=block.get("final-recipient", "").partition(";")[2].strip(),
                reason=f"{status} {diagnostic}".strip() or None,
            )
    return None


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportOutcome:
    report: MailReport | None
    """None: the message is neither a read receipt nor a delivery status notification."""
    communication_id: str | None
    """The communication the report is about; None when ccm sent no such message."""
    recorded: bool
    """Queued as evidence (False for what is not evidence: a "delayed" DSN)."""


def sent_as(original_message_id: str) -> tuple[str, str]:
    """Which transport sent the message a report names, and its id there: SES replaces
    the Message-ID with ``<MessageId@<region>.amazonses.com>``; SMTP keeps ours."""
    local, _, domain = original_message_id.strip("<>").partition("@")
    if domain == "amazonses.com" or domain.endswith(".amazonses.com"):
        return "ses", local
    return "smtp", original_message_id


def record_report(
    engine: Engine, store: ArtifactStore, raw: bytes, *, now: datetime
) -> ReportOutcome:
    """Match a read receipt or DSN to the e-mail it is about and queue it as evidence
    (the same message twice is recorded once)."""
    report = read_report(raw)
    if report is None or not report.original_message_id:
        return ReportOutcome(report=None, communication_id=None, recorded=False)
    if report.kind == "delayed":
        return ReportOutcome(report=report, communication_id=None, recorded=False)
    details = {
        k: v
        for k, v in {"disposition": report.disposition, "reason": report.reason}.items()
        if v is not None
    }
    provider, message_id = sent_as(report.original_message_id)
    signal = InboundSignal(
        channel="email",
        provider=provider,
        provider_message_id=message_id,
        kind=report.kind,
        raw=raw,
        media_type="message/rfc822",
        details=details,
    )
    communication_id = record_signal(engine, store, signal, now=now)
    return ReportOutcome(
        report=report, communication_id=communication_id, recorded=communication_id is not None
    )
