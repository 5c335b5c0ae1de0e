"""S/MIME detached signatures of MIME entities (RFC 8551), for the e-mail channel.

The entity is signed exactly as given; the result is a complete ``multipart/signed``
entity with CRLF line endings, ready to be prefixed with RFC 5322 headers and sent
unchanged (re-serialising it through :mod:`email` would risk breaking the signature).
"""

import re
from email.message import EmailMessage
from email.policy import SMTP

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import pkcs7

from signing.errors import SigningError
from signing.identity import SigningIdentity

__all__ = ["SmimeMessageSigner", "sign_mime_entity"]

# Headers that describe the body: they move into the signed entity; the rest stay outside.
_CONTENT = re.compile(rb"content-[a-z-]+:", re.I)
_MIME_VERSION = re.compile(rb"mime-version:", re.I)


def sign_mime_entity(entity: bytes, identity: SigningIdentity) -> bytes:
    """Sign ``entity`` (headers + body of one MIME part) and return ``multipart/signed``.

    Raises:
        SigningError: the key type is not supported by ``cryptography``'s PKCS#7 builder.
    """
    canonical = entity.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    builder = pkcs7.PKCS7SignatureBuilder().set_data(canonical)
    builder = builder.add_signer(identity.certificate, identity.key, hashes.SHA256())
    for cert in identity.chain:
        builder = builder.add_certificate(cert)
    try:
        signed = builder.sign(serialization.Encoding.SMIME, [pkcs7.PKCS7Options.DetachedSignature])
    except (TypeError, ValueError) as err:
        raise SigningError(f"S/MIME signature failed: {err}") from err
    return signed.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def _fields(head: bytes) -> list[bytes]:
    """Header fields of a CRLF header block, each with its folded continuation lines."""
    fields: list[bytes] = []
    for line in head.split(b"\r\n"):
        if line[:1] in (b" ", b"\t") and fields:
            fields[-1] += b"\r\n" + line
        else:
            fields.append(line)
    return fields


class SmimeMessageSigner:
    """Implements :class:`ccm.ports.MessageSigner`: the body of a message, with its
    ``Content-*`` headers, becomes a detached-signed ``multipart/signed`` entity; the
    addressing headers (From, To, Subject, Message-ID, Disposition-Notification-To...)
    stay outside the signature, as RFC 8551 messages have them."""

    def __init__(self, identity: SigningIdentity) -> None:
        self._identity = identity

    def sign_message(self, message: EmailMessage) -> bytes:
        raw = message.as_bytes(policy=SMTP)
        head, _, body = raw.partition(b"\r\n\r\n")
        fields = _fields(head)
        content = [f for f in fields if _CONTENT.match(f)]
        outer = [f for f in fields if not _CONTENT.match(f) and not _MIME_VERSION.match(f)]
        entity = b"\r\n".join(content) + b"\r\n\r\n" + body
        return b"\r\n".join(outer) + b"\r\n" + sign_mime_entity(entity, self._identity)
