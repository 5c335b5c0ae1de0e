"""RFC 8098 message disposition notifications (read receipts): build and parse.

An MDN is ``multipart/report; report-type=disposition-notification`` whose second part
carries ``Final-Recipient``, ``Original-Message-ID`` and ``Disposition``. Only the
``displayed`` disposition counts as a read confirmation (rule R33); MDNs are voluntary,
so their absence proves nothing.
"""

from dataclasses import dataclass
from datetime import datetime
from email import message_from_bytes, message_from_string, policy
from email.header import decode_header, make_header
from email.message import EmailMessage, Message
from email.utils import format_datetime, make_msgid

__all__ = ["Disposition", "build_mdn", "parse_mdn"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Disposition:
    """What an MDN reports."""

    original_message_id: str
    final_recipient: str
    disposition: str
    """``displayed``, ``deleted``, ``dispatched`` or ``processed``."""
    mode: str
    """``manual-action/MDN-sent-manually`` and the like."""


def build_mdn(
    *,
    original_message_id: str,
    reader: str,
    sender: str,
    subject: str,
    at: datetime,
    reporting_ua: str,
) -> bytes:
    """An MDN saying ``reader`` displayed the message ``original_message_id``."""
    report = EmailMessage(policy=policy.SMTP)
    report["From"] = reader
    report["To"] = sender
    report["Subject"] = f"Lida: {subject}"
    report["Date"] = format_datetime(at)
    report["Message-ID"] = make_msgid(domain=reader.rpartition("@")[2] or "localhost")
    report.set_content(f"A mensagem \u201c{subject}\u201d foi exibida em {at:%d/%m/%Y %H:%M}.\n")
    report.make_mixed()
    report.replace_header(
        "Content-Type", 'multipart/report; report-type="disposition-notification"'
    )
    fields = (
        f"Reporting-UA: {reporting_ua}\r\n"
        f"Final-Recipient: rfc822; {reader}\r\n"
        f"Original-Message-ID: {original_message_id}\r\n"
        "Disposition: manual-action/MDN-sent-manually; displayed\r\n"
    )
    part = Message()
    part["Content-Type"] = "message/disposition-notification"
    part.set_payload(fields)
    report.attach(part)  # type: ignore[arg-type]
    return report.as_bytes()


def _unfolded(value: object) -> str:
    """A field's value on one line, RFC 2047 encoded words decoded (some writers encode a
    long Message-ID instead of folding it)."""
    return " ".join(str(make_header(decode_header(str(value)))).split())


def parse_mdn(raw: bytes) -> Disposition | None:
    """The disposition an MDN reports, or ``None`` if ``raw`` is not an MDN."""
    message = message_from_bytes(raw, policy=policy.SMTP)
    if message.get_content_type() != "multipart/report":
        return None
    for part in message.walk():
        if part.get_content_type() != "message/disposition-notification":
            continue
        payload = part.get_payload()
        if isinstance(payload, list):  # parsed as headers of an embedded message
            text = "".join(str(p) for p in payload)
        else:
            decoded = part.get_payload(decode=True)
            text = decoded.decode("utf-8", "replace") if isinstance(decoded, bytes) else ""
        # The fields are header lines (RFC 8098 section 3.1), folding included.
        parsed = message_from_string(text.lstrip("\r\n"), policy=policy.compat32)
        fields = {k.lower(): _unfolded(v) for k, v in parsed.items()}
        disposition = fields.get("disposition", "")
        mode, _, kind = disposition.partition(";")
        if not kind:
            return None
        return Disposition(
            original_message_id=fields.get("original-message-id", ""),
            final_recipient=fields.get("final-recipient", "").partition(";")[2].strip(),
            disposition=kind.strip().split("/")[0].lower(),
            mode=mode.strip(),
        )
    return None
