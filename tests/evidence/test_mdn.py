"""RFC 8098 read receipts: what the sandbox builds, and folded fields from real mail programs."""

from datetime import UTC, datetime

from channels.mdn import build_mdn, parse_mdn

FOLDED = (
    b"From: maria@example.com\r\nTo: op@example.com\r\nSubject: Lida\r\nMIME-Version: 1.0\r\n"
    b'Content-Type: multipart/report; report-type=disposition-notification; boundary="b"\r\n\r\n'
    b"--b\r\nContent-Type: text/plain\r\n\r\nLida.\r\n"
    b"--b\r\nContent-Type: message/disposition-notification\r\n\r\n"
    b"Reporting-UA: Thunderbird\r\nFinal-Recipient: rfc822;\r\n maria@example.com\r\n"
    b"Original-Message-ID: <n1@op.example.com>\r\n"
    b"Disposition: manual-action/MDN-sent-manually;\r\n displayed\r\n"
    b"--b--\r\n"
)


def test_built_mdn_parses_back() -> None:
    raw = build_mdn(
        original_message_id="<n1@op.example.com>",
        reader="maria@example.com",
        sender="op@example.com",
        subject="Notificação",
        at=datetime(2026, 11, 21, 12, tzinfo=UTC),
        reporting_ua="ccm-sandbox",
    )
    parsed = parse_mdn(raw)
    assert parsed is not None
    assert (parsed.disposition, parsed.final_recipient) == ("displayed", "maria@example.com")
    assert parsed.original_message_id == "<n1@op.example.com>"


def test_folded_fields_are_read() -> None:
    parsed = parse_mdn(FOLDED)
    assert parsed is not None and parsed.disposition == "displayed"
    assert parsed.final_recipient == "maria@example.com"
    assert parsed.mode == "manual-action/MDN-sent-manually"


def test_a_plain_message_is_not_an_mdn() -> None:
    assert parse_mdn(b"From: a@b\r\nSubject: oi\r\n\r\ntexto\r\n") is None
