"""Verify PDF signatures independently of the code that made them."""

import io
from pathlib import Path

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import PdfSignatureStatus
from pyhanko_certvalidator import ValidationContext

from tests.conftest import run


def pyhanko_status(pdf: bytes, trust_root: x509.Certificate) -> PdfSignatureStatus:
    """Validate the first signature of ``pdf`` against ``trust_root``, offline."""
    root = asn1_x509.Certificate.load(trust_root.public_bytes(serialization.Encoding.DER))
    context = ValidationContext(trust_roots=[root], allow_fetching=False)
    signature = PdfFileReader(io.BytesIO(pdf)).embedded_signatures[0]
    return validate_pdf_signature(
        signature, signer_validation_context=context, ts_validation_context=context
    )


def pdfsig(pdf: bytes, tmp: Path) -> str:
    """poppler's report on the signatures of ``pdf``."""
    path = tmp / "signed.pdf"
    path.write_bytes(pdf)
    return run("pdfsig", str(path)).stdout
