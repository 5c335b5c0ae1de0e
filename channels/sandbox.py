"""The sandbox e-mail channel: an outbox folder instead of a provider, and simulated signals.

Nothing leaves the machine. Every message is written to ``outbox/<communication>/`` with
an ``X-CCM-Sandbox: true`` header, every receipt and signal says ``sandbox``, and the
evidence recorded from them carries ``sandbox=true``, which evidence certificates print
as a banner. The simulated signals are what a real provider would send: a delivery
callback (JSON) and, from the recipient's mail program, an RFC 8098 read receipt.
"""

import json
import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from pathlib import Path

from ccm.ports import ProviderSignal, SendReceipt
from channels.mdn import build_mdn

__all__ = ["SANDBOX_HEADER", "SandboxEmailChannel"]

SANDBOX_HEADER = b"X-CCM-Sandbox: true - nothing was delivered to anyone\r\n"
_SAFE = re.compile(r"[^A-Za-z0-9._-]")


def _now() -> datetime:
    return datetime.now(UTC)


class SandboxEmailChannel:
    """Implements :class:`ccm.ports.EmailSender` by writing to an outbox folder."""

    provider = "sandbox"

    def __init__(self, outbox: Path, *, clock: Callable[[], datetime] = _now) -> None:
        self.outbox = outbox
        self._clock = clock

    def send(self, message: bytes, *, communication_id: str) -> SendReceipt:
        accepted_at = self._clock()
        message_id = f"sandbox-{uuid.uuid4()}"
        folder = self.outbox / _SAFE.sub("_", communication_id)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{message_id}.eml").write_bytes(SANDBOX_HEADER + message)
        response = {
            "provider": self.provider,
            "sandbox": True,
            "status": "accepted",
            "message_id": message_id,
            "accepted_at": accepted_at.isoformat(),
        }
        return SendReceipt(
            provider=self.provider,
            provider_message_id=message_id,
            accepted_at=accepted_at,
            raw_response=json.dumps(response, sort_keys=True).encode(),
            sandbox=True,
        )

    def simulate_delivery(self, receipt: SendReceipt, *, after: timedelta) -> ProviderSignal:
        """The provider's callback saying the message reached the mailbox."""
        at = receipt.accepted_at + after
        callback = {
            "provider": self.provider,
            "sandbox": True,
            "event": "delivered",
            "message_id": receipt.provider_message_id,
            "timestamp": at.isoformat(),
        }
        raw = json.dumps(callback, sort_keys=True).encode()
        return ProviderSignal(
            kind="delivered", occurred_at=at, raw=raw, media_type="application/json"
        )

    def simulate_read(
        self, receipt: SendReceipt, message: bytes, *, after: timedelta
    ) -> ProviderSignal:
        """The read receipt (MDN "displayed") the recipient's mail program sends back."""
        at = receipt.accepted_at + after
        parsed = message_from_bytes(message, policy=policy.SMTP)
        raw = build_mdn(
            original_message_id=str(parsed["Message-ID"]),
            reader=parsed["To"].addresses[0].addr_spec if parsed["To"] else "recipient@localhost",
            sender=parsed["From"].addresses[0].addr_spec if parsed["From"] else "sender@localhost",
            subject=str(parsed["Subject"] or ""),
            at=at,
            reporting_ua="ccm-sandbox (simulated mail program)",
        )
        return ProviderSignal(kind="mdn", occurred_at=at, raw=raw, media_type="message/rfc822")
