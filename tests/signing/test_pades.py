"""PAdES B-T signatures: valid for pyHanko and poppler, timestamped, tamper-evident."""

import datetime as dt
import io
import json
from pathlib import Path

import pytest
from asn1crypto import tsp
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils.reader import PdfFileReader

from ccm.bootstrap import build_composer, build_signer
from ccm.composition import Channel, Composer, DocumentRendering
from ccm.config import Settings
from ccm.errors import ConfigurationError
from signing import (
    DEVELOPMENT_MARK,
    DevelopmentPki,
    LocalTimestampAuthority,
    PadesProfile,
    PadesSigner,
    SignaturePolicy,
    TimestampServer,
    http_timestamper,
)
from signing.timestamps import DEVELOPMENT_TSA_POLICY
from tests.conftest import NOTICE_SAMPLE
from tests.signing.helpers import pdfsig, pyhanko_status


@pytest.fixture(scope="module")
def unsigned_pdf(unsigned_composer: Composer) -> bytes:
    data = json.loads(NOTICE_SAMPLE.read_text(encoding="utf-8"))
    composition = unsigned_composer.prepare("delinquency_notice", data)
    rendering = unsigned_composer.render(composition, Channel.DOCUMENT)
    assert isinstance(rendering, DocumentRendering) and not rendering.signed
    return rendering.pdf


@pytest.fixture(scope="module")
def signed_pdf(composer: Composer, unsigned_pdf: bytes) -> bytes:
    signer = composer._signer  # the configured signer, as the composer uses it
    assert signer is not None
    return signer.sign(unsigned_pdf)


def test_signature_is_valid_and_timestamped_for_pyhanko(
    signed_pdf: bytes, pki: DevelopmentPki
) -> None:
    status = pyhanko_status(signed_pdf, pki.ca())
    assert status.bottom_line
    assert status.intact and status.valid and status.trusted
    assert status.timestamp_validity is not None and status.timestamp_validity.trusted
    assert status.coverage.name == "ENTIRE_FILE"
    assert DEVELOPMENT_MARK in status.signing_cert.subject.human_friendly


def test_signature_is_valid_for_poppler(signed_pdf: bytes, tmp_path: Path) -> None:
    report = pdfsig(signed_pdf, tmp_path)
    assert "Signature Type: ETSI.CAdES.detached" in report
    assert "Signature Validation: Signature is Valid." in report
    assert "Total document signed" in report


def _certificate(
    common_name: str, *, ca: bool, issuer: tuple[rsa.RSAPrivateKey, x509.Name] | None = None
) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    """A key and certificate, self-signed unless ``issuer`` (key, name) is given."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    signing_key, issuer_name = issuer or (key, name)
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=30))
    )
    if ca:
        builder = builder.add_extension(
            x509.BasicConstraints(ca=True, path_length=None), critical=True
        )
    return key, builder.sign(signing_key, hashes.SHA256())


def test_untrusted_root_is_not_trusted(signed_pdf: bytes) -> None:
    _, other = _certificate("Someone else", ca=True)
    status = pyhanko_status(signed_pdf, other)
    assert status.intact and not status.trusted and not status.bottom_line


def test_a_changed_byte_breaks_both_verifiers(
    signed_pdf: bytes, pki: DevelopmentPki, tmp_path: Path
) -> None:
    # One byte inside the first compressed stream: the file still parses, its digest changes.
    target = signed_pdf.index(b"stream\n") + 100
    tampered = bytearray(signed_pdf)
    tampered[target] ^= 0x01
    status = pyhanko_status(bytes(tampered), pki.ca())
    assert not status.intact and not status.bottom_line
    assert "Signature is Valid." not in pdfsig(bytes(tampered), tmp_path)


def test_http_timestamp_authority(unsigned_pdf: bytes, pki: DevelopmentPki) -> None:
    server = TimestampServer(LocalTimestampAuthority(pki.tsa())).start()
    try:
        signer = PadesSigner(
            pki.signer(), timestamper=http_timestamper(server.url), profile=PadesProfile()
        )
        signed = signer.sign(unsigned_pdf)
    finally:
        server.stop()
    assert server.requests == 1
    status = pyhanko_status(signed, pki.ca())
    assert status.bottom_line and status.timestamp_validity is not None
    assert status.timestamp_validity.trusted


def test_timestamp_token_names_the_development_policy(signed_pdf: bytes) -> None:
    signature = PdfFileReader(io.BytesIO(signed_pdf)).embedded_signatures[0]
    unsigned = signature.signer_info["unsigned_attrs"]
    token = next(a for a in unsigned if a["type"].native == "signature_time_stamp_token")
    info: tsp.TSTInfo = token["values"][0]["content"]["encap_content_info"]["content"].parsed
    assert info["policy"].dotted == DEVELOPMENT_TSA_POLICY


def test_icp_brasil_policy_is_embedded(unsigned_pdf: bytes, pki: DevelopmentPki) -> None:
    policy = SignaturePolicy(
        oid="2.16.76.1.7.1.12.1.3",
        digest_algorithm="sha256",
        digest=bytes.fromhex("ab" * 32),
        uri="http://politicas.icpbrasil.gov.br/PA_PAdES_AD_RT_v1_3.der",
    )
    signer = PadesSigner(
        pki.signer(),
        timestamper=LocalTimestampAuthority(pki.tsa()),
        profile=PadesProfile(policy=policy),
    )
    signed = signer.sign(unsigned_pdf)
    signature = PdfFileReader(io.BytesIO(signed)).embedded_signatures[0]
    attrs = {a["type"].native: a for a in signature.signer_info["signed_attrs"]}
    value = attrs["signature_policy_identifier"]["values"][0].chosen
    assert value["sig_policy_id"].dotted == "2.16.76.1.7.1.12.1.3"
    assert value["sig_policy_hash"]["digest"].native == bytes.fromhex("ab" * 32)
    assert pyhanko_status(signed, pki.ca()).bottom_line


OPERATOR_CN = "VIDA PLENA SAUDE S A:41287035000130"


def _pkcs12(tmp_path: Path) -> Path:
    """An operator certificate issued outside ccm (standing in for an e-CNPJ A1)."""
    ca_key, ca = _certificate("Operator Test CA", ca=True)
    key, leaf = _certificate(OPERATOR_CN, ca=False, issuer=(ca_key, ca.subject))
    blob = pkcs12.serialize_key_and_certificates(
        b"operator", key, leaf, [ca], serialization.BestAvailableEncryption(b"s3cret")
    )
    path = tmp_path / "operator.p12"
    path.write_bytes(blob)
    return path


def test_a_configured_pkcs12_replaces_the_development_signer(
    tmp_path: Path, pki: DevelopmentPki, unsigned_pdf: bytes
) -> None:
    settings = Settings(
        home=tmp_path / "home",
        signing_pkcs12=_pkcs12(tmp_path),
        signing_pkcs12_password="s3cret",
    )
    signer = build_signer(settings)
    assert "41287035000130" in signer.identity.subject
    assert DEVELOPMENT_MARK not in signer.identity.subject
    # With a real certificate the documents are no longer specimens.
    assert build_composer(settings, sign=False)._specimen is False


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"environment": "production"}, "CCM_SIGNING_PKCS12, CCM_TSA_URL"),
        ({"signing_pkcs12": "/x.p12"}, "CCM_SIGNING_PKCS12_PASSWORD"),
        ({"signing_policy_oid": "2.16.76.1.7.1.12.1.3"}, "CCM_SIGNING_POLICY_HASH"),
    ],
)
def test_unsafe_or_incomplete_signing_settings_are_refused(
    tmp_path: Path, overrides: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message):
        Settings(home=tmp_path, **overrides)  # type: ignore[arg-type]


def test_an_expired_certificate_is_refused(tmp_path: Path) -> None:
    from signing import SigningError, load_pkcs12

    key, cert = _certificate("Expired operator", ca=False)
    expired = dt.datetime.now(dt.UTC) + dt.timedelta(days=60)
    path = tmp_path / "expired.p12"
    path.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"x", key, cert, None, serialization.BestAvailableEncryption(b"pw")
        )
    )
    identity = load_pkcs12(path, b"pw")
    with pytest.raises(SigningError, match="is valid from"):
        identity.check_validity(at=expired)
