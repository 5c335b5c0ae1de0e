"""PAdES B-T signatures on PDFs: a CMS signature plus an RFC 3161 timestamp.

:class:`PadesSigner` is long-lived. It keeps the parsed private key and reserves a
fixed room for the signature, which removes the two costs that make pyHanko's stock
``SimpleSigner`` slow per document (re-parsing the key on every signature, and a
dry-run signature to size the placeholder; see shared/reference/perf.md section 5).
An ICP-Brasil signature policy (AD-RT, rule R28) is added when configured.
"""

import asyncio
import io
from dataclasses import dataclass

from asn1crypto import algos, core
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko.sign.ades.api import CAdESSignedAttrSpec
from pyhanko.sign.ades.cades_asn1 import (
    SignaturePolicyId,
    SignaturePolicyIdentifier,
    SigPolicyQualifierInfo,
    SigPolicyQualifierInfos,
)
from pyhanko.sign.general import SigningError as PyHankoSigningError
from pyhanko.sign.timestamps import TimeStamper
from pyhanko.sign.timestamps.common_utils import TimestampRequestError

from signing.errors import SigningError, TimestampError
from signing.identity import SigningIdentity
from signing.keys import KeptKeySigner

__all__ = ["PadesProfile", "PadesSigner", "SignaturePolicy"]


@dataclass(frozen=True, slots=True, kw_only=True)
class SignaturePolicy:
    """An explicit signature policy, such as ICP-Brasil PAdES AD-RT."""

    oid: str
    """Policy OID, e.g. ``2.16.76.1.7.1.12.1.3`` (AD-RT v1.3)."""
    digest_algorithm: str
    digest: bytes
    """The hash stated inside the policy document, not the hash of the LPA file (R29)."""
    uri: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class PadesProfile:
    """What every signature of a :class:`PadesSigner` says about itself."""

    field_name: str = "Assinatura"
    reason: str | None = None
    location: str | None = None
    policy: SignaturePolicy | None = None
    bytes_reserved: int = 32_768
    """Hex characters reserved for the CMS blob; enough for a 4-certificate chain and a
    timestamp token. A larger blob falls back once to pyHanko's own sizing."""


def _policy_attributes(policy: SignaturePolicy | None) -> CAdESSignedAttrSpec | None:
    if policy is None:
        return None
    qualifiers = None
    if policy.uri:
        qualifiers = SigPolicyQualifierInfos(
            [
                SigPolicyQualifierInfo(
                    {
                        "sig_policy_qualifier_id": "sp_uri",
                        "sig_qualifier": core.IA5String(policy.uri),
                    }
                )
            ]
        )
    policy_id = SignaturePolicyId(
        {
            "sig_policy_id": policy.oid,
            "sig_policy_hash": algos.DigestInfo(
                {
                    "digest_algorithm": {"algorithm": policy.digest_algorithm},
                    "digest": policy.digest,
                }
            ),
            "sig_policy_qualifiers": qualifiers,
        }
    )
    return CAdESSignedAttrSpec(
        signature_policy_identifier=SignaturePolicyIdentifier(
            name="signature_policy_id", value=policy_id
        )
    )


class PadesSigner:
    """Signs PDFs with PAdES B-T; build one per process and reuse it."""

    def __init__(
        self, identity: SigningIdentity, *, timestamper: TimeStamper, profile: PadesProfile
    ) -> None:
        self.identity = identity
        self._signer = KeptKeySigner(identity)
        self._timestamper = timestamper
        self._profile = profile
        self._metadata = signers.PdfSignatureMetadata(
            field_name=profile.field_name,
            md_algorithm="sha256",
            subfilter=fields.SigSeedSubFilter.PADES,
            reason=profile.reason,
            location=profile.location,
            cades_signed_attr_spec=_policy_attributes(profile.policy),
        )

    async def sign_async(self, pdf: bytes) -> bytes:
        """Return ``pdf`` with an incremental update holding the signature.

        Raises:
            SigningError: pyHanko or the timestamp authority failed.
        """
        self.identity.check_validity()  # a long-lived worker can outlive its certificate
        reserved: int | None = self._profile.bytes_reserved
        for _ in range(2):
            try:
                output = io.BytesIO()
                writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
                await signers.async_sign_pdf(
                    writer,
                    self._metadata,
                    signer=self._signer,
                    timestamper=self._timestamper,
                    bytes_reserved=reserved,
                    output=output,
                )
                return output.getvalue()
            except TimestampRequestError as err:
                raise TimestampError(f"timestamp authority failed: {err}") from err
            except PyHankoSigningError as err:
                if reserved is None or "larger than expected" not in str(err).lower():
                    raise SigningError(f"PAdES signature failed: {err}") from err
                reserved = None  # a bigger chain or token than planned: let pyHanko size it
            except (OSError, ValueError) as err:
                raise SigningError(f"PAdES signature failed: {err}") from err
        raise SigningError("PAdES signature failed after resizing")  # pragma: no cover

    def sign(self, pdf: bytes) -> bytes:
        """Synchronous :meth:`sign_async` for callers outside an event loop."""
        return asyncio.run(self.sign_async(pdf))
