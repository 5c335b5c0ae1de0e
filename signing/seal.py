"""Seals: detached CMS signatures with an RFC 3161 signature timestamp (CAdES-T).

Checkpoints and evidence-pack manifests are sealed this way. The format is plain CMS,
so ``openssl cms -verify -binary -inform DER -content FILE -in FILE.p7s -CAfile CA``
checks a seal without ccm.
"""

import asyncio

from cryptography.hazmat.primitives import serialization
from pyhanko.sign.general import SigningError as PyHankoSigningError
from pyhanko.sign.timestamps import TimeStamper
from pyhanko.sign.timestamps.common_utils import TimestampRequestError

from signing.errors import SigningError, TimestampError
from signing.identity import SigningIdentity
from signing.keys import KeptKeySigner

__all__ = ["CmsSealer"]


class CmsSealer:
    """Implements :class:`ccm.ports.Sealer` with a kept key and a timestamp authority."""

    def __init__(self, identity: SigningIdentity, *, timestamper: TimeStamper) -> None:
        self.identity = identity
        self._signer = KeptKeySigner(identity)
        self._timestamper = timestamper

    def seal(self, data: bytes) -> bytes:
        """Return the DER CMS ``SignedData`` (detached) over ``data``, timestamped.

        Raises:
            SigningError: the certificate is outside its validity or signing failed.
            TimestampError: the timestamp authority failed.
        """
        self.identity.check_validity()
        try:
            signed = asyncio.run(
                self._signer.async_sign_general_data(
                    data, "sha256", detached=True, timestamper=self._timestamper
                )
            )
        except TimestampRequestError as err:
            raise TimestampError(f"timestamp authority failed: {err}") from err
        except (PyHankoSigningError, OSError, ValueError) as err:
            raise SigningError(f"seal failed: {err}") from err
        return bytes(signed.dump())

    def certificates_pem(self) -> bytes:
        """The sealing certificate and its chain, PEM, signer first."""
        certs = (self.identity.certificate, *self.identity.chain)
        return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certs)
