"""The e-mail channel over SMTP: a submission server (smarthost) or the recipient's MX.

Sends the message bytes exactly as the pipeline built and signed them (re-serialising a
signed message could break its S/MIME signature). The server's reply to DATA ("250 2.0.0
Ok: queued as ...") is the relay's receipt and is kept as evidence. What follows arrives
later as mail to the operator's mailbox and is posted to ``/v1/inbound/email`` (or read
by ``ccm inbound imap``): delivery status notifications (RFC 3464) and read receipts
(RFC 8098).

Errors are classified as SMTP classifies them: a 5xx reply is permanent (the mailbox
does not exist, the message is refused) and is never retried; a 4xx reply, a dropped
connection or a timeout is temporary and the job is retried with backoff.

SMTP has no idempotency key: a worker that dies between the server's 250 and recording
it sends the message again on retry, with the same Message-ID (mail programs show one).
"""

import re
import smtplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import parse_qs, unquote, urlsplit

from ccm.errors import ChannelError, ConfigurationError, PermanentChannelError
from ccm.ports import OutgoingMessage, SendReceipt
from channels.base import CallbackChannel, now, receipt

__all__ = ["SmtpChannel", "SmtpSettings"]

_MESSAGE_ID = re.compile(rb"^Message-ID:\s*(<[^>\r\n]+>)", re.I | re.M)


@dataclass(frozen=True, slots=True, kw_only=True)
class SmtpSettings:
    host: str
    port: int
    username: str | None = None
    password: str | None = None
    security: str = "starttls"
    """``starttls``, ``tls`` (implicit, port 465) or ``none`` (loopback tests only)."""
    timeout: float = 30.0

    @classmethod
    def from_url(cls, url: str) -> "SmtpSettings":
        """``smtp://user:pass@host:587`` (STARTTLS), ``smtps://...:465`` (implicit TLS),
        ``smtp://host:25?security=none``.

        Raises:
            ConfigurationError: not such a URL.
        """
        parts = urlsplit(url)
        if parts.scheme not in {"smtp", "smtps"} or not parts.hostname:
            raise ConfigurationError(
                "CCM_SMTP_URL must look like smtp://user:password@host:587 or smtps://host:465"
            )
        query = parse_qs(parts.query)
        security = query.get("security", ["tls" if parts.scheme == "smtps" else "starttls"])[0]
        if security not in {"starttls", "tls", "none"}:
            raise ConfigurationError("CCM_SMTP_URL: security must be starttls, tls or none")
        return cls(
            host=parts.hostname,
            port=parts.port or (465 if security == "tls" else 587),
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            security=security,
        )


class SmtpChannel(CallbackChannel):
    """Implements :class:`ccm.ports.ChannelAdapter` for ``email`` over SMTP."""

    channel = "email"
    provider = "smtp"

    def __init__(
        self,
        settings: SmtpSettings,
        *,
        envelope_from: str,
        clock: Callable[[], datetime] = now,
    ) -> None:
        self._settings = settings
        self._envelope_from = envelope_from
        self._clock = clock

    def _connect(self) -> smtplib.SMTP:
        s = self._settings
        context = ssl.create_default_context()
        if s.security == "tls":
            return smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout, context=context)
        client = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
        if s.security == "starttls":
            client.starttls(context=context)
        return client

    def send(self, message: OutgoingMessage) -> SendReceipt:
        """Send the message; the DATA reply is the receipt.

        Raises:
            PermanentChannelError: a 5xx reply (with the server's words).
            ChannelError: a 4xx reply, a dropped connection, a timeout.
        """
        found = _MESSAGE_ID.search(message.payload.partition(b"\r\n\r\n")[0])
        if found is None:
            raise PermanentChannelError("the message has no Message-ID header")
        message_id = found.group(1).decode("ascii", "replace")
        try:
            with self._connect() as client:
                client.ehlo_or_helo_if_needed()
                if self._settings.username and self._settings.password:
                    client.login(self._settings.username, self._settings.password)
                code, reply = client.mail(self._envelope_from)
                _check(code, reply, "MAIL FROM")
                code, reply = client.rcpt(message.address)
                _check(code, reply, f"RCPT TO <{message.address}>")
                code, reply = client.data(message.payload)
                _check(code, reply, "DATA")
        except smtplib.SMTPResponseException as error:
            _check(error.smtp_code, error.smtp_error, "SMTP")
            raise  # pragma: no cover - _check raised for every non-2xx code
        except (smtplib.SMTPException, OSError) as error:
            raise ChannelError(f"smtp {self._settings.host}: {error}") from error
        return receipt(
            self.provider,
            message_id,
            self._clock(),
            server=f"{self._settings.host}:{self._settings.port}",
            code=code,
            reply=reply.decode("utf-8", "replace"),
            message_id=message_id,
            recipient=message.address,
        )

    # Bounces and read receipts arrive as mail: /v1/inbound/email.


def _check(code: int, reply: bytes | str, step: str) -> None:
    if 200 <= code < 400:
        return
    words = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
    if 500 <= code < 600:
        raise PermanentChannelError(f"smtp {step}: {code} {words}")
    raise ChannelError(f"smtp {step}: {code} {words}")
