"""Signing adapters: PAdES documents, S/MIME messages, RFC 3161 timestamps, dev PKI."""

from signing.errors import SigningError, TimestampError
from signing.identity import SigningIdentity, load_pkcs12
from signing.pades import PadesProfile, PadesSigner, SignaturePolicy
from signing.pki import DEVELOPMENT_MARK, DevelopmentPki, ensure_development_pki
from signing.smime import SmimeMessageSigner, sign_mime_entity
from signing.timestamps import LocalTimestampAuthority, TimestampServer, http_timestamper

__all__ = [
    "DEVELOPMENT_MARK",
    "DevelopmentPki",
    "LocalTimestampAuthority",
    "PadesProfile",
    "PadesSigner",
    "SignaturePolicy",
    "SigningError",
    "SigningIdentity",
    "SmimeMessageSigner",
    "TimestampError",
    "TimestampServer",
    "ensure_development_pki",
    "http_timestamper",
    "load_pkcs12",
    "sign_mime_entity",
]
