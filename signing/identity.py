"""A signing identity: private key, certificate and chain, loaded once and kept."""

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12

from signing.errors import SigningError

__all__ = ["SigningIdentity", "load_pkcs12"]


@dataclass(frozen=True, slots=True, kw_only=True)
class SigningIdentity:
    """Key material for PAdES and S/MIME signatures."""

    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...]
    """Intermediate and root certificates, issuer first."""

    def check_validity(self, at: datetime | None = None) -> None:
        """Refuse to sign outside the certificate's validity (rule R30).

        Revocation is not checked here: that needs the issuer's CRL or OCSP service.

        Raises:
            SigningError: the certificate is not yet valid or has expired.
        """
        now = at or datetime.now(UTC)
        cert = self.certificate
        if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
            raise SigningError(
                f"certificate {self.subject} is valid from {cert.not_valid_before_utc:%Y-%m-%d} "
                f"to {cert.not_valid_after_utc:%Y-%m-%d}, not on {now:%Y-%m-%d}"
            )

    @property
    def subject(self) -> str:
        """The certificate subject as an RFC 4514 string."""
        return self.certificate.subject.rfc4514_string()


def load_pkcs12(path: Path, password: bytes) -> SigningIdentity:
    """Load a PKCS#12 file (an ICP-Brasil e-CNPJ A1, or the development signer).

    Raises:
        SigningError: the file cannot be read or decrypted, or holds no RSA/EC key.
    """
    try:
        key, cert, extra = pkcs12.load_key_and_certificates(path.read_bytes(), password)
    except (OSError, ValueError) as err:
        raise SigningError(f"cannot load PKCS#12 {path}: {err}") from err
    if cert is None or not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise SigningError(f"PKCS#12 {path} must hold an RSA or EC key and its certificate")
    identity = SigningIdentity(key=key, certificate=cert, chain=tuple(extra))
    identity.check_validity()
    return identity
