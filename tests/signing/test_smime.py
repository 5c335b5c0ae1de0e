"""S/MIME detached signatures verified by openssl, on a real rendered e-mail."""

from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Any

import pytest

from ccm.composition import Channel, Composer, EmailRendering
from ccm.composition.mime import build_email
from signing import DevelopmentPki, sign_mime_entity
from tests.conftest import run


@pytest.fixture
def signed_message(
    unsigned_composer: Composer, notice_data: dict[str, Any], pki: DevelopmentPki
) -> bytes:
    composition = unsigned_composer.prepare("delinquency_notice", notice_data)
    rendering = unsigned_composer.render(composition, Channel.EMAIL)
    assert isinstance(rendering, EmailRendering)
    entity = build_email(composition, rendering, attachment=("aviso.pdf", b"%PDF-1.7 test"))
    for header in ("From", "To", "Subject", "Date", "Message-ID", "X-CCM-Document", "MIME-Version"):
        del entity[header]
    signed = sign_mime_entity(entity.as_bytes(), pki.signer())
    headers = (
        "From: Vida Plena <atendimento@vidaplena.example>\r\n"
        "To: maria.oliveira@example.com\r\n"
        f"Subject: {rendering.subject.encode('ascii', 'replace').decode()}\r\n"
        f"Date: {formatdate()}\r\nMessage-ID: {make_msgid(domain='vidaplena.example')}\r\n"
        "Disposition-Notification-To: <atendimento@vidaplena.example>\r\n"
    ).encode()
    return headers + signed


def _verify(message: bytes, ca: Path, tmp: Path) -> tuple[int, str]:
    path = tmp / "message.eml"
    path.write_bytes(message)
    result = run(
        "openssl",
        "smime",
        "-verify",
        "-in",
        str(path),
        "-CAfile",
        str(ca),
        "-purpose",
        "smimesign",
        "-out",
        str(tmp / "content.txt"),
    )
    return result.returncode, result.stderr


def test_openssl_verifies_the_signed_message(
    signed_message: bytes, pki: DevelopmentPki, tmp_path: Path
) -> None:
    assert b"multipart/signed" in signed_message and b"smime.p7s" in signed_message
    code, stderr = _verify(signed_message, pki.ca_certificate, tmp_path)
    assert code == 0, stderr
    assert "Verification successful" in stderr
    content = (tmp_path / "content.txt").read_bytes()
    assert b"Notifica" in content and b"application/pdf" in content


def test_a_changed_byte_fails_verification(
    signed_message: bytes, pki: DevelopmentPki, tmp_path: Path
) -> None:
    tampered = signed_message.replace(b"2.653,34", b"2.653,35", 1)
    assert tampered != signed_message
    code, stderr = _verify(tampered, pki.ca_certificate, tmp_path)
    assert code != 0
    assert "signature failure" in stderr or "digest failure" in stderr
