"""Amazon SES event notifications delivered by Amazon SNS to ``/v1/webhooks/ses/sns``.

Every SNS message is verified before anything is read from it, as AWS documents: the
signing certificate must come over HTTPS from SNS's own host (``CCM_SNS_CERTIFICATE_URL_PATTERN``)
and the ``Signature`` must be the RSA signature (SHA1 for ``SignatureVersion`` 1, SHA256 for
2) of the message's string to sign; the topic must be one ccm was told to accept. A
subscription is confirmed by visiting its ``SubscribeURL`` (checked against the same host
pattern). The whole SNS message, signature included, is the event's artefact: anyone can
check it against AWS's certificate later.

SES events (event publishing ``eventType`` or identity feedback ``notificationType``):
``Delivery`` is the hand-over to the recipient's server, a ``Bounce`` of type
``Permanent`` and a ``Reject`` fail the channel, ``Open`` is weak evidence; transient
bounces, complaints, clicks, sends and delays are not evidence of notification.
"""

import base64
import binascii
import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from ccm.service.inbound import InboundSignal

__all__ = ["SnsError", "ses_signal", "string_to_sign", "verify_sns"]

_FIELDS = {
    "Notification": ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"),
    "SubscriptionConfirmation": (
        "Message",
        "MessageId",
        "SubscribeURL",
        "Timestamp",
        "Token",
        "TopicArn",
        "Type",
    ),
}
_FIELDS["UnsubscribeConfirmation"] = _FIELDS["SubscriptionConfirmation"]


_CERTIFICATE_PATH = re.compile(r"/SimpleNotificationService-[0-9a-f]+\.pem\Z")


class SnsError(ValueError):
    """The SNS message is not authentic (or not SNS's): it is refused unread."""


def string_to_sign(message: Mapping[str, Any]) -> bytes:
    """What SNS signs: ``name\\nvalue\\n`` for each field of the message's type, in order
    (``Subject`` only when present).

    Raises:
        SnsError: an unknown ``Type`` or a missing field.
    """
    fields = _FIELDS.get(str(message.get("Type")))
    if fields is None:
        raise SnsError(f"Type: not an SNS message type ({message.get('Type')!r})")
    lines = []
    for name in fields:
        if name == "Subject" and message.get(name) is None:
            continue
        if not isinstance(message.get(name), str):
            raise SnsError(f"{name}: required")
        lines.append(f"{name}\n{message[name]}\n")
    return "".join(lines).encode()


def verify_sns(
    message: Mapping[str, Any],
    *,
    url_pattern: re.Pattern[str],
    topics: frozenset[str],
    certificate: Callable[[str], bytes],
) -> None:
    """Check that ``message`` was signed by SNS for one of ``topics``.

    ``certificate(url)`` returns the PEM at ``url`` (cached by the caller).

    Raises:
        SnsError: naming what is wrong.
    """
    payload = string_to_sign(message)
    url = str(message.get("SigningCertURL", ""))
    if not url_pattern.fullmatch(url) or not _CERTIFICATE_PATH.search(url):
        raise SnsError("SigningCertURL: not an Amazon SNS certificate URL")
    if message.get("TopicArn") not in topics:
        raise SnsError("TopicArn: not a topic ccm accepts (CCM_SES_SNS_TOPIC_ARNS)")
    algorithm = {"1": hashes.SHA1(), "2": hashes.SHA256()}.get(  # noqa: S303 - SNS version 1
        str(message.get("SignatureVersion"))
    )
    if algorithm is None:
        raise SnsError("SignatureVersion: must be 1 or 2")
    try:
        signature = base64.b64decode(str(message.get("Signature", "")), validate=True)
        key = x509.load_pem_x509_certificate(certificate(url)).public_key()
    except (binascii.Error, ValueError) as error:
        raise SnsError(f"Signature: unreadable ({error})") from error
    if not isinstance(key, rsa.RSAPublicKey):
        raise SnsError("SigningCertURL: not an RSA certificate")
    try:
        key.verify(signature, payload, padding.PKCS1v15(), algorithm)
    except InvalidSignature as error:
        raise SnsError("Signature: does not match the message") from error


def ses_signal(message: Mapping[str, Any], raw: bytes) -> InboundSignal | None:
    """The evidence signal an SES event notification carries, or None when it is not
    evidence of notification (a transient bounce, a complaint, a click...).

    Raises:
        SnsError: the notification is not an SES event.
    """
    try:
        event = json.loads(str(message.get("Message", "")))
        kind = str(event.get("eventType") or event.get("notificationType") or "")
        ses_message_id = str(event["mail"]["messageId"])
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise SnsError("Message: not an Amazon SES event notification") from error
    details: dict[str, str] = {}
    if kind == "Delivery":
        signal_kind = "delivered"
    elif kind == "Open":
        signal_kind = "pixel"
    elif kind == "Bounce" and (event.get("bounce") or {}).get("bounceType") == "Permanent":
        bounce = event["bounce"]
        first = (bounce.get("bouncedRecipients") or [{}])[0]
        words = [bounce.get("bounceSubType"), first.get("status"), first.get("diagnosticCode")]
        details["reason"] = " ".join(str(w) for w in words if w) or "permanent bounce"
        signal_kind = "bounce"
    elif kind == "Reject":
        details["reason"] = f"ses reject: {(event.get('reject') or {}).get('reason', '')}".strip()
        signal_kind = "bounce"
    else:
        return None
    return InboundSignal(
        channel="email",
        provider="ses",
        provider_message_id=ses_message_id,
        kind=signal_kind,
        raw=raw,
        media_type="application/json",
        details=details,
    )
