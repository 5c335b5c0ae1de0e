"""Development PKI for the embedded default: a CA, a document signer and a TSA.

Created under ``CCM_HOME/pki`` on first use; every subject says
"DEVELOPMENT - NOT FOR PRODUCTION" so no one mistakes a development signature for an
operator's ICP-Brasil one. Production points ``CCM_SIGNING_PKCS12`` and
``CCM_TSA_URL`` at real material instead.
"""

import datetime as dt
import fcntl
import os
import secrets
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

from signing.errors import SigningError
from signing.identity import SigningIdentity, load_pkcs12

__all__ = ["DEVELOPMENT_MARK", "DevelopmentPki", "ensure_development_pki"]

DEVELOPMENT_MARK = "DEVELOPMENT - NOT FOR PRODUCTION"
_DOCUMENT_SIGNING = ObjectIdentifier("1.3.6.1.4.1.311.10.3.12")


@dataclass(frozen=True, slots=True, kw_only=True)
class DevelopmentPki:
    """Paths of the development PKI files."""

    root: Path

    @property
    def ca_certificate(self) -> Path:
        return self.root / "ca.pem"

    @property
    def signer_pkcs12(self) -> Path:
        return self.root / "signer.p12"

    @property
    def signer_password(self) -> Path:
        return self.root / "signer.password"

    @property
    def tsa_pkcs12(self) -> Path:
        return self.root / "tsa.p12"

    def signer(self) -> SigningIdentity:
        """Load the document signer."""
        return load_pkcs12(self.signer_pkcs12, self.signer_password.read_bytes().strip())

    def tsa(self) -> SigningIdentity:
        """Load the timestamp authority's key and certificate."""
        return load_pkcs12(self.tsa_pkcs12, self.signer_password.read_bytes().strip())

    def ca(self) -> x509.Certificate:
        """The development root certificate (the trust anchor for verification)."""
        return x509.load_pem_x509_certificate(self.ca_certificate.read_bytes())


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "BR"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "ccm development"),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, DEVELOPMENT_MARK),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _issue(
    *,
    subject: x509.Name,
    key: rsa.RSAPrivateKey,
    issuer: x509.Name,
    issuer_key: rsa.RSAPrivateKey,
    days: int,
    ca: bool,
    usages: Sequence[ObjectIdentifier] = (),
) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=not ca,
                content_commitment=not ca,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=ca,
                crl_sign=ca,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
            critical=False,
        )
    )
    if usages:
        # RFC 3161 section 2.3: a TSA certificate's only EKU is timeStamping, marked critical.
        timestamping = ExtendedKeyUsageOID.TIME_STAMPING in usages
        builder = builder.add_extension(x509.ExtendedKeyUsage(list(usages)), critical=timestamping)
    return builder.sign(issuer_key, hashes.SHA256())


def _write_private(path: Path, data: bytes) -> None:
    """Write owner-readable only, via a temporary file, so a crash leaves no half file."""
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(tmp, path)


@contextmanager
def _locked(root: Path) -> Iterator[None]:
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _still_valid(pki: DevelopmentPki) -> bool:
    paths = (pki.ca_certificate, pki.signer_pkcs12, pki.signer_password, pki.tsa_pkcs12)
    if not all(p.exists() for p in paths):
        return False
    margin = dt.datetime.now(dt.UTC) + dt.timedelta(days=30)
    try:
        certs = (pki.ca(), pki.signer().certificate, pki.tsa().certificate)
    except (SigningError, ValueError):  # an interrupted creation: make a new PKI
        return False
    return all(cert.not_valid_after_utc > margin for cert in certs)


def ensure_development_pki(root: Path) -> DevelopmentPki:
    """Create the development PKI under ``root`` unless a valid one is there.

    Safe to call from several processes at once: creation holds a file lock.
    """
    pki = DevelopmentPki(root=root)
    with _locked(root):
        if _still_valid(pki):
            return pki
        ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        ca_name = _name("ccm Development Root CA")
        ca = _issue(
            subject=ca_name, key=ca_key, issuer=ca_name, issuer_key=ca_key, days=3650, ca=True
        )
        password = secrets.token_urlsafe(24).encode()
        encryption = serialization.BestAvailableEncryption(password)
        leaves = {
            pki.signer_pkcs12: (
                "ccm Development Document Signer",
                (ExtendedKeyUsageOID.EMAIL_PROTECTION, _DOCUMENT_SIGNING),
                825,
            ),
            pki.tsa_pkcs12: (
                "ccm Development Timestamp Authority",
                (ExtendedKeyUsageOID.TIME_STAMPING,),
                1825,
            ),
        }
        _write_private(pki.signer_password, password)
        for path, (common_name, usages, days) in leaves.items():
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            cert = _issue(
                subject=_name(common_name),
                key=key,
                issuer=ca_name,
                issuer_key=ca_key,
                days=days,
                ca=False,
                usages=usages,
            )
            blob = pkcs12.serialize_key_and_certificates(
                common_name.encode(), key, cert, [ca], encryption
            )
            _write_private(path, blob)
        pki.ca_certificate.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
        return pki
