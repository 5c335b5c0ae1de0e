"""An e-mail rendering as a MIME message (RFC 5322), for previews and the e-mail channel.

The message is ``multipart/mixed``: a ``multipart/alternative`` (text, then HTML) and
the signed PDF of the document channel when there is one. Headers derive from the
request, never the clock, so the same request gives the same bytes.
"""

from collections.abc import Mapping
from datetime import UTC, datetime, time
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from typing import Any

from ccm.composition.composer import Composition
from ccm.composition.outputs import EmailRendering
from ccm.composition.text import one_line

__all__ = ["RECIPIENT_KEYS", "build_email", "recipient_of"]

RECIPIENT_KEYS = ("payer", "addressee", "policyholder", "claimant", "beneficiary")
"""Where templates keep the person a communication is addressed to, in lookup order."""


def recipient_of(data: Mapping[str, Any]) -> Mapping[str, Any]:
    """The addressee block of a template's data (``{}`` when it has none)."""
    for key in RECIPIENT_KEYS:
        if isinstance(data.get(key), Mapping):
            return data[key]  # type: ignore[no-any-return]
    return {}


def build_email(
    composition: Composition,
    rendering: EmailRendering,
    *,
    attachment: tuple[str, bytes] | None = None,
) -> EmailMessage:
    """Assemble the MIME message of ``rendering`` (with an optional PDF attachment)."""
    issuer = composition.context["issuer"] or {}
    recipient = recipient_of(composition.data)
    message = EmailMessage(policy=SMTP)
    sender = one_line(str(issuer.get("name", "")))  # a header cannot hold a line break
    message["From"] = Address(sender, addr_spec=issuer.get("email") or "noreply@localhost")
    if recipient.get("email"):
        name = one_line(str(recipient.get("name", "")))
        message["To"] = Address(name, addr_spec=recipient["email"])
    message["Subject"] = rendering.subject
    issued = datetime.combine(composition.doc.issue_date, time(12, 0), tzinfo=UTC)
    message["Date"] = format_datetime(issued)
    domain = (issuer.get("email") or "ccm.localhost").rpartition("@")[2]
    message["Message-ID"] = f"<{composition.doc.id}.{rendering.channel}@{domain}>"
    message["X-CCM-Document"] = f"{composition.doc.id} {rendering.template}"
    message.set_content(rendering.text, subtype="plain", charset="utf-8", cte="quoted-printable")
    message.add_alternative(rendering.html, subtype="html", charset="utf-8", cte="quoted-printable")
    if attachment is not None:
        filename, pdf = attachment
        message.make_mixed()
        message.add_attachment(pdf, maintype="application", subtype="pdf", filename=filename)
    # Boundaries from the document id instead of random ones: same request, same bytes.
    # "=_" never occurs in quoted-printable or base64 bodies.
    for index, part in enumerate(message.walk()):
        if part.is_multipart():
            part.set_boundary(f"=_ccm_{composition.doc.id}_{index}")
    return message
