"""The e-mail channel over real SMTP (aiosmtpd on loopback): an S/MIME-signed notice that
openssl verifies, a read receipt and a bounce posted back as mail, SMTP refusals."""

import imaplib
import time
import urllib.parse
from collections.abc import Iterator
from datetime import UTC, datetime
from email import message_from_bytes
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from ccm.evidence.verify import verify_pack
from channels.mdn import build_mdn
from signing import DevelopmentPki
from signing.verification import OfflineVerifier
from tests.api.conftest import Service, request_body, running_service
from tests.conftest import run
from tests.servers import dovecot, free_port

pytestmark = pytest.mark.xdist_group("smtp")
__all__ = ["request_body"]  # the fixture, shared with the API tests


class Mailbox:
    """An SMTP server that keeps what it accepts and refuses ``recusar`` addresses (550)."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        if "recusar" in address:
            return "550 5.1.1 <" + address + ">: Recipient address rejected: User unknown"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        content = envelope.original_content or b""
        assert isinstance(content, bytes)
        self.messages.append((str(envelope.mail_from), list(envelope.rcpt_tos), content))
        return "250 2.0.0 Ok: queued as 4F1A2B3C"

    def wait_for(self, count: int, seconds: float = 30) -> bytes:
        deadline = time.monotonic() + seconds
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(self.messages) >= count, "nothing reached the SMTP server"
        return self.messages[count - 1][2]


@pytest.fixture(scope="module")
def mailbox() -> Iterator[Mailbox]:
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port())
    controller.start()
    box.port = controller.port  # type: ignore[attr-defined]
    yield box
    controller.stop()


@pytest.fixture(scope="module")
def smtp_service(
    tmp_path_factory: pytest.TempPathFactory, pki: Any, home: Path, mailbox: Mailbox
) -> Iterator[Service]:
    port = mailbox.port  # type: ignore[attr-defined]
    with running_service(
        tmp_path_factory.mktemp("smtp"),
        home,
        smtp_url=f"smtp://127.0.0.1:{port}?security=none",
        email_envelope_from="devolucoes@vidaplena.example",
    ) as running:
        yield running


def _send(service: Service, body: dict[str, Any], email: str) -> str:
    body["recipient"]["email"] = email
    response = service.client.post(
        "/v1/communications", json=body, headers=service.auth("submitter")
    )
    assert response.status_code == 202, response.text
    return str(response.json()["id"])


def _inbound(service: Service, raw: bytes, who: str = "gateway") -> Any:
    return service.client.post(
        "/v1/inbound/email",
        content=raw,
        headers={**service.auth(who), "Content-Type": "message/rfc822"},
    )


def _events(service: Service, communication_id: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = service.client.get(
        f"/v1/communications/{communication_id}/events", headers=service.auth("legal")
    ).json()
    return events


def _dsn(message_id: str, recipient: str, action: str, status: str) -> bytes:
    return (
        "From: MAILER-DAEMON@mx.example.org\r\n"
        "To: devolucoes@vidaplena.example\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b1"\r\n'
        "\r\n--b1\r\nContent-Type: text/plain\r\n\r\nThe message could not be delivered.\r\n"
        "\r\n--b1\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.example.org\r\n\r\n"
        f"Final-Recipient: rfc822; {recipient}\r\n"
        f"Action: {action}\r\nStatus: {status}\r\n"
        "Diagnostic-Code: smtp; 550 5.1.1 mailbox unavailable\r\n"
        "\r\n--b1\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"Message-ID: {message_id}\r\nSubject: Aviso\r\n"
        "\r\n--b1--\r\n"
    ).encode()


def test_a_signed_notice_over_smtp_is_proven_by_a_read_receipt(
    smtp_service: Service,
    mailbox: Mailbox,
    request_body: dict[str, Any],
    pki: DevelopmentPki,
    tmp_path: Path,
) -> None:
    service = smtp_service
    communication_id = _send(service, request_body, "maria.oliveira@example.com")
    raw = mailbox.wait_for(1)
    sender, recipients, _ = mailbox.messages[0]
    assert (sender, recipients) == ("devolucoes@vidaplena.example", ["maria.oliveira@example.com"])

    path = tmp_path / "sent.eml"
    path.write_bytes(raw)
    verified = run("openssl", "smime", "-verify", "-in", str(path), "-CAfile",
                   str(pki.ca_certificate), "-purpose", "smimesign", "-out",
                   str(tmp_path / "content.txt"))  # fmt: skip
    assert verified.returncode == 0, verified.stderr
    assert b"application/pdf" in (tmp_path / "content.txt").read_bytes()
    headers = message_from_bytes(raw)
    message_id = str(headers["Message-ID"])
    assert message_id.startswith(f"<{communication_id}.email@")
    assert headers["Disposition-Notification-To"] and headers["X-CCM-Sandbox"] is None

    time.sleep(1)  # no simulated signals on a real channel: sent, not delivered
    assert service.wait_for(communication_id, "sent", seconds=5)["status"] == "sent"
    relay = next(e for e in _events(service, communication_id) if e["type"] == "relay_accepted")
    assert relay["provider"] == "smtp" and relay["provider_message_id"] == message_id

    receipt = build_mdn(
        original_message_id=message_id,
        reader="maria.oliveira@example.com",
        sender="atendimento@vidaplena.example",
        subject="Aviso",
        at=datetime.now(UTC),
        reporting_ua="mail.example.com; Thunderbird 128",
    )
    assert _inbound(service, receipt, who="submitter").status_code == 403
    posted = _inbound(service, receipt)
    assert posted.status_code == 202, posted.text
    assert posted.json() == {
        "communication_id": communication_id,
        "kind": "mdn",
        "recorded": True,
    }
    proven = service.wait_for(communication_id, "proven")
    assert proven["status"] == "proven" and proven["proof"]["rule"] == "R14"
    assert _inbound(service, receipt).status_code == 202  # the same receipt again
    time.sleep(0.5)
    accessed = [e for e in _events(service, communication_id) if e["type"] == "content_accessed"]
    assert len(accessed) == 1 and accessed[0]["details"]["disposition"] == "displayed"

    pack = service.client.get(
        f"/v1/communications/{communication_id}/evidence-pack", headers=service.auth("legal")
    )
    report = verify_pack(pack.content, verifier=OfflineVerifier([pki.ca()]))
    assert report.ok, report


def test_a_bounce_fails_the_communication(
    smtp_service: Service, mailbox: Mailbox, request_body: dict[str, Any]
) -> None:
    service = smtp_service
    before = len(mailbox.messages)
    communication_id = _send(service, request_body, "ninguem@example.org")
    raw = mailbox.wait_for(before + 1)
    message_id = str(message_from_bytes(raw)["Message-ID"])
    assert service.wait_for(communication_id, "sent", seconds=10)["status"] == "sent"

    delayed = _inbound(service, _dsn(message_id, "ninguem@example.org", "delayed", "4.4.1"))
    assert delayed.status_code == 202 and delayed.json()["recorded"] is False
    bounced = _inbound(service, _dsn(message_id, "ninguem@example.org", "failed", "5.1.1"))
    assert bounced.status_code == 202 and bounced.json()["kind"] == "bounce"
    assert service.wait_for(communication_id, "failed")["status"] == "failed"
    [failure] = [e for e in _events(service, communication_id) if e["type"] == "handover_failed"]
    assert "5.1.1" in failure["reasons"][0]


def test_an_smtp_refusal_is_permanent(smtp_service: Service, request_body: dict[str, Any]) -> None:
    communication_id = _send(smtp_service, request_body, "recusar@example.org")
    assert smtp_service.wait_for(communication_id, "failed")["status"] == "failed"
    [failure] = [e for e in _events(smtp_service, communication_id) if e["type"] == "relay_failed"]
    assert "550" in failure["reasons"][0] and "User unknown" in failure["reasons"][0]


def test_what_the_inbound_endpoint_refuses(smtp_service: Service) -> None:
    plain = b"From: a@example.org\r\nSubject: oi\r\n\r\nola\r\n"
    refused = _inbound(smtp_service, plain)
    assert refused.status_code == 422 and refused.json()["errors"][0]["path"] == "body"
    unknown = _dsn("<nada@example.org>", "x@example.org", "failed", "5.1.1")
    assert _inbound(smtp_service, unknown).status_code == 404
    wrong_type = smtp_service.client.post(
        "/v1/inbound/email",
        content=plain,
        headers={**smtp_service.auth("gateway"), "Content-Type": "text/plain"},
    )
    assert wrong_type.status_code == 415


@pytest.fixture(scope="module")
def bounce_mailbox() -> Iterator[str]:
    """The operator's bounce and receipt mailbox, on a real IMAP server (Dovecot)."""
    with dovecot(user="devolucoes", password="s3nha-imap") as port:
        yield f"imap://devolucoes:s3nha-imap@127.0.0.1:{port}/INBOX?security=none"


def _imap(url: str) -> imaplib.IMAP4:
    parts = urllib.parse.urlsplit(url)
    connection = imaplib.IMAP4("127.0.0.1", parts.port or 143)
    connection.login("devolucoes", "s3nha-imap")
    connection.select("INBOX")
    return connection


def test_the_imap_poller_records_receipts_and_bounces_from_the_mailbox(
    smtp_service: Service, mailbox: Mailbox, request_body: dict[str, Any], bounce_mailbox: str
) -> None:
    service = smtp_service
    read = _send(service, request_body, "leitora@example.com")
    read_id = str(message_from_bytes(mailbox.wait_for(len(mailbox.messages) + 1))["Message-ID"])
    bounced = _send(service, request_body, "inexistente@example.org")
    bounced_id = str(message_from_bytes(mailbox.wait_for(len(mailbox.messages) + 1))["Message-ID"])
    receipt = build_mdn(
        original_message_id=read_id,
        reader="leitora@example.com",
        sender="atendimento@vidaplena.example",
        subject="Aviso",
        at=datetime.now(UTC),
        reporting_ua="mail.example.com; Thunderbird 128",
    )
    dsn = _dsn(bounced_id, "inexistente@example.org", "failed", "5.1.1")
    stranger = _dsn("<nunca-enviada@vidaplena.example>", "x@example.org", "failed", "5.1.1")
    reply = b"From: leitora@example.com\r\nSubject: Re: Aviso\r\n\r\nRecebi, obrigada.\r\n"
    imap = _imap(bounce_mailbox)
    for raw in (receipt, dsn, stranger, reply):
        assert imap.append("INBOX", None, None, raw)[0] == "OK"

    first = service.cli("inbound", "imap", "--url", bounce_mailbox, "--once")
    assert first.exit_code == 0, first.output
    assert "recorded 2, ignored 2" in first.output
    assert service.wait_for(read, "proven")["proof"]["rule"] == "R14"
    assert service.wait_for(bounced, "failed")["status"] == "failed"

    imap.select("INBOX")
    flags = [imap.fetch(str(n), "(FLAGS)")[1][0] for n in range(1, 5)]
    assert [b"$CcmRecorded" in f and b"\\Seen" in f for f in flags] == [True, True, False, False]
    assert [b"$CcmIgnored" in f for f in flags] == [False, False, True, True]  # left unread
    again = service.cli("inbound", "imap", "--url", bounce_mailbox, "--once")
    assert "recorded 0, ignored 0" in again.output  # nothing handled twice
    imap.logout()

    wrong = bounce_mailbox.replace("s3nha-imap", "errada")
    refused = service.cli("inbound", "imap", "--url", wrong, "--once")
    assert refused.exit_code == 1 and "imap" in refused.output.lower()
    bad = service.cli("inbound", "imap", "--url", "http://example.com", "--once")
    assert bad.exit_code == 2 and "imaps://" in bad.output
