"""Offline signature checks for evidence packs and audits.

Everything is checked against the trust anchors given, with no network: fetching is
off, and revocation is "soft-fail" (a certificate with no reachable CRL or OCSP answer
is not failed for that alone; the pack carries no revocation data yet). Results are
:class:`ccm.ports.SignatureCheck` values, never exceptions.
"""

import asyncio
import io
from collections.abc import Sequence
from typing import Any

from asn1crypto import cms
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.generic_cms import async_validate_detached_cms
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

from ccm.ports import SignatureCheck
from signing.keys import asn1_certificate

__all__ = ["OfflineVerifier"]


def _subject(cert: Any) -> str | None:
    return None if cert is None else str(cert.subject.human_friendly)


def _usage_problem(signer: Any) -> str | None:
    """Why the signing certificate is not one for signing documents, if it is not."""
    if signer is None:
        return "no signing certificate"
    cert = x509.load_der_x509_certificate(signer.dump())
    try:
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
        if not (usage.digital_signature or usage.content_commitment):
            return "the certificate's key usage does not allow signatures"
    except x509.ExtensionNotFound:
        pass
    try:
        extended = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        if ExtendedKeyUsageOID.TIME_STAMPING in extended:
            return "the certificate is a timestamp authority's, not a document signer's"
    except x509.ExtensionNotFound:
        pass
    return None


def _problems(status: Any) -> list[str]:
    if not status.intact:
        return ["the signed content was changed (digest mismatch)"]
    if not status.valid:
        return ["the signature value does not verify"]
    problems = []
    usage = _usage_problem(status.signing_cert)
    if usage:
        problems.append(usage)
    if not status.trusted:
        problems.append(
            "the signing certificate does not chain to a trusted root"
            + (f" ({status.trust_problem_indic})" if status.trust_problem_indic else "")
        )
    stamp = status.timestamp_validity
    if stamp is None:
        problems.append("no RFC 3161 signature timestamp")
    elif not (stamp.intact and stamp.valid):
        problems.append("the timestamp token does not verify")
    elif not stamp.trusted:
        problems.append("the timestamp authority does not chain to a trusted root")
    return problems


def _certificates(signed_data: cms.SignedData) -> tuple[bytes, ...]:
    certs: Any = signed_data["certificates"]
    return tuple(c.chosen.dump() for c in certs or ())


def _der(cert: Any) -> bytes | None:
    return None if cert is None else bytes(cert.dump())


class OfflineVerifier:
    """Implements :class:`ccm.ports.SignatureVerifier` over fixed trust anchors."""

    def __init__(self, trust_roots: Sequence[x509.Certificate]) -> None:
        self._roots = [asn1_certificate(c) for c in trust_roots]

    def _context(self) -> ValidationContext:
        return ValidationContext(
            trust_roots=self._roots, allow_fetching=False, revocation_mode="soft-fail"
        )

    def verify_seal(self, data: bytes, seal: bytes) -> SignatureCheck:
        """Check a detached CMS seal over ``data``, its chain and its timestamp."""
        try:
            content = cms.ContentInfo.load(seal)
            signed_data = content["content"]
            if content["content_type"].native != "signed_data":
                raise ValueError("not a CMS SignedData")
            status = asyncio.run(
                async_validate_detached_cms(
                    data,
                    signed_data,
                    signer_validation_context=self._context(),
                    ts_validation_context=self._context(),
                )
            )
        except Exception as err:  # noqa: BLE001 - any parse failure is a failed check
            return SignatureCheck(ok=False, problems=(f"unreadable seal: {err}",))
        problems = _problems(status)
        stamp = status.timestamp_validity
        return SignatureCheck(
            ok=not problems,
            signer=_subject(status.signing_cert),
            signed_at=stamp.timestamp if stamp is not None else None,
            problems=tuple(problems),
            certificates=_certificates(signed_data),
            signer_certificate=_der(status.signing_cert),
        )

    def verify_pdf(self, pdf: bytes) -> list[SignatureCheck]:
        """Check every signature in ``pdf``; the last must cover the whole file."""
        try:
            signatures = PdfFileReader(io.BytesIO(pdf), strict=False).embedded_signatures
        except (PdfError, ValueError, KeyError, OSError) as err:
            return [SignatureCheck(ok=False, problems=(f"unreadable PDF: {err}",))]
        checks = []
        for position, embedded in enumerate(signatures, start=1):
            try:
                status = validate_pdf_signature(
                    embedded,
                    signer_validation_context=self._context(),
                    ts_validation_context=self._context(),
                )
            except Exception as err:  # noqa: BLE001 - a broken signature is a failed check
                checks.append(SignatureCheck(ok=False, problems=(f"signature {position}: {err}",)))
                continue
            problems = _problems(status)
            last = position == len(signatures)
            if last and status.coverage != SignatureCoverageLevel.ENTIRE_FILE:
                problems.append("the file was changed after it was signed")
            stamp = status.timestamp_validity
            checks.append(
                SignatureCheck(
                    ok=not problems,
                    signer=_subject(status.signing_cert),
                    signed_at=stamp.timestamp if stamp is not None else None,
                    problems=tuple(problems),
                    certificates=_certificates(embedded.signed_data),
                    signer_certificate=_der(status.signing_cert),
                )
            )
        return checks
