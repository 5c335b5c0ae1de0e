"""Reading the bounce and receipt mailbox over IMAP (``ccm inbound imap``).

Each message not yet handled is fetched without marking it read (``BODY.PEEK[]``) and
given to the handler (the same one ``POST /v1/inbound/email`` uses); then it is flagged
with an IMAP keyword: ``$CcmRecorded`` (and ``\\Seen``) when it was recorded as
evidence, ``$CcmIgnored`` when it is not a report about a message ccm sent (left unread
for a person to look at). Nothing is deleted. A failure while handling leaves the message
unflagged for the next poll; recording the same report twice records it once.
"""

import imaplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from ccm.errors import ChannelError, ConfigurationError

__all__ = ["IGNORED", "RECORDED", "ImapSettings", "PollResult", "poll_mailbox"]

RECORDED = "$CcmRecorded"
IGNORED = "$CcmIgnored"


@dataclass(frozen=True, slots=True, kw_only=True)
class ImapSettings:
    host: str
    port: int
    username: str
    password: str
    mailbox: str
    security: str
    """``tls`` (implicit, 993), ``starttls`` (143) or ``none`` (a local server only)."""

    @classmethod
    def from_url(cls, url: str) -> "ImapSettings":
        """``imaps://user:pass@host/INBOX`` (TLS), ``imap://user:pass@host:143/INBOX``
        (STARTTLS), ``imap://...?security=none``.

        Raises:
            ConfigurationError: not such a URL, or no user and password.
        """
        parts = urlsplit(url)
        if parts.scheme not in {"imap", "imaps"} or not parts.hostname:
            raise ConfigurationError("the IMAP URL must look like imaps://user:password@host/INBOX")
        if not parts.username or parts.password is None:
            raise ConfigurationError("the IMAP URL needs a user and a password")
        query = parse_qs(parts.query)
        security = query.get("security", ["tls" if parts.scheme == "imaps" else "starttls"])[0]
        if security not in {"starttls", "tls", "none"}:
            raise ConfigurationError("the IMAP URL: security must be starttls, tls or none")
        return cls(
            host=parts.hostname,
            port=parts.port or (993 if security == "tls" else 143),
            username=unquote(parts.username),
            password=unquote(parts.password),
            mailbox=unquote(parts.path.strip("/")) or "INBOX",
            security=security,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class PollResult:
    recorded: int
    ignored: int
    failed: tuple[str, ...] = ()
    """What went wrong with messages left for the next poll (one line each)."""


Handler = Callable[[bytes], bool]
"""``handle(raw message)`` -> whether it was recorded as evidence; raises to retry later."""


def _connect(settings: ImapSettings) -> imaplib.IMAP4:
    if settings.security == "tls":
        return imaplib.IMAP4_SSL(
            settings.host, settings.port, ssl_context=ssl.create_default_context(), timeout=60
        )
    connection = imaplib.IMAP4(settings.host, settings.port, timeout=60)
    if settings.security == "starttls":
        connection.starttls(ssl.create_default_context())
    return connection


def _ok(answer: tuple[str, Any], what: str) -> list[Any]:
    status, data = answer
    if status != "OK":
        raise ChannelError(f"imap {what}: {status} {data!r}")
    return list(data)


def poll_mailbox(settings: ImapSettings, handle: Handler, *, limit: int = 500) -> PollResult:
    """Handle every message of the mailbox not flagged yet (at most ``limit``).

    Raises:
        ChannelError: the server could not be reached, refused the login or a command.
    """
    recorded = ignored = 0
    failed: list[str] = []
    try:
        connection = _connect(settings)
    except (OSError, imaplib.IMAP4.error) as error:
        raise ChannelError(f"imap {settings.host}:{settings.port}: {error}") from error
    try:
        connection.login(settings.username, settings.password)
        _ok(connection.select(_quoted(settings.mailbox)), f"select {settings.mailbox}")
        found = _ok(
            connection.uid("SEARCH", "NOT", "KEYWORD", RECORDED, "NOT", "KEYWORD", IGNORED),
            "search",
        )
        first = found[0] if found else b""
        uids = (first.decode() if isinstance(first, bytes) else "").split()[:limit]
        for uid in uids:
            fetched = _ok(connection.uid("FETCH", uid, "(BODY.PEEK[])"), "fetch")
            raw = next((part[1] for part in fetched if isinstance(part, tuple)), None)
            if not isinstance(raw, bytes):
                continue  # expunged meanwhile
            try:
                handled = handle(raw)
            except Exception as error:  # noqa: BLE001 - left unflagged, tried next poll
                failed.append(f"message {uid}: {type(error).__name__}: {error}")
                continue
            if handled:
                flags, recorded = f"({RECORDED} \\Seen)", recorded + 1
            else:
                flags, ignored = f"({IGNORED})", ignored + 1
            _ok(connection.uid("STORE", uid, "+FLAGS", flags), "store")
    except imaplib.IMAP4.error as error:
        raise ChannelError(f"imap {settings.host}: {error}") from error
    finally:
        try:
            connection.logout()
        except (OSError, imaplib.IMAP4.error):
            pass
    return PollResult(recorded=recorded, ignored=ignored, failed=tuple(failed))


def _quoted(mailbox: str) -> str:
    return '"' + mailbox.replace("\\", "\\\\").replace('"', '\\"') + '"'
