"""S/MIME detached signatures of MIME entities (RFC 8551), for the e-mail channel.

The entity is signed exactly as given; the result is a complete ``multipart/signed``
entity with CRLF line endings, ready to be prefixed with RFC 5322 headers and sent
unchanged (re-serialising it through :mod:`email` would risk breaking the signature).
"""

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import pkcs7

from signing.errors import SigningError
from signing.identity import SigningIdentity

__all__ = ["sign_mime_entity"]


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
