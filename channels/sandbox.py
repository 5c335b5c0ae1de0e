"""The sandbox e-mail channel: an outbox folder instead of a provider, and simulated signals.

Nothing leaves the machine. Every message is written to ``outbox/<communication>/`` with
an ``X-CCM-Sandbox: true`` header, every receipt and signal says ``sandbox``, and the
evidence recorded from them carries ``sandbox=true``, which evidence certificates print
as a banner. The simulated signals are what a real provider would send: a delivery
callback (JSON) and, from the recipient's mail program, an RFC 8098 read receipt.
"""

import io
import json
import os
import re
import uuid
import wave
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from pathlib import Path

from ccm.errors import PermanentChannelError
from ccm.ports import (
    IVR_SCRIPT_MEDIA_TYPE,
    WHATSAPP_TEMPLATE_MEDIA_TYPE,
    ProviderSignal,
    SendReceipt,
)
from ccm.ports import OutgoingMessage as ProviderMessage
from channels.mdn import build_mdn

__all__ = ["SANDBOX_HEADER", "SandboxChannel", "SandboxEmailChannel"]

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


_EXTENSIONS = {
    "message/rfc822": "eml",
    "text/plain": "txt",
    "application/pdf": "pdf",
    "text/html": "html",
    WHATSAPP_TEMPLATE_MEDIA_TYPE: "json",
    IVR_SCRIPT_MEDIA_TYPE: "ivr.json",
}
_SANDBOX_RECORDING = re.compile(r"^sandbox-[0-9a-f-]{36}$")


def _unanswered(channel: str, address: str) -> bool:
    """Whether the sandbox's person never answers ``address`` on ``channel``."""
    if channel == "email":
        return "sem-resposta" in address
    return channel in {"sms", "whatsapp"} and address.endswith("0000")


class SandboxChannel:
    """Implements :class:`ccm.ports.ChannelAdapter` for any channel with an outbox folder.

    Sending writes ``outbox/<communication>/<channel>.<ext>`` and a receipt beside it; the
    same idempotency key finds the receipt and sends nothing again. The simulated signals
    are each channel's delivery and then its legal proof: a read receipt (e-mail), a
    "CIENTE" reply (SMS, WhatsApp), an IVR call answered with the identity confirmed and a
    recording (a second of silence, labelled sandbox), an AR returned as delivered
    (registered letter). To try paths without a proof (the RN 593 ladder escalating): an
    e-mail address containing ``sem-resposta`` is delivered but never read, and a text
    to a number ending in ``0000`` is delivered but never answered.
    """

    provider = "sandbox"

    def __init__(
        self,
        channel: str,
        outbox: Path,
        *,
        delivery_delay: timedelta,
        proof_delay: timedelta,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        if channel not in {"email", "sms", "whatsapp", "ivr", "registered_mail"}:
            raise ValueError(f"the sandbox has no {channel} channel")
        self.channel = channel
        self.outbox = outbox
        self._delivery = delivery_delay
        self._proof = proof_delay
        self._clock = clock

    def _paths(self, message: ProviderMessage) -> tuple[Path, Path]:
        folder = self.outbox / _SAFE.sub("_", message.communication_id)
        name = _SAFE.sub("_", message.idempotency_key)
        extension = _EXTENSIONS.get(message.media_type, "bin")
        return folder / f"{name}.{extension}", folder / f"{name}.receipt.json"

    def send(self, message: ProviderMessage) -> SendReceipt:
        """Write the message to the outbox. Addresses containing ``rejeitar`` are refused
        for good, so failure paths can be tried on the sandbox too.

        Raises:
            PermanentChannelError: the address asks to be refused.
        """
        if "rejeitar" in message.address:
            raise PermanentChannelError(
                f"sandbox: {self.channel} address {message.address!r} refused (simulated)"
            )
        body, receipt_path = self._paths(message)
        if receipt_path.exists():  # a retry after a crash: already sent, send nothing
            stored = json.loads(receipt_path.read_text())
            return SendReceipt(
                provider=self.provider,
                provider_message_id=stored["message_id"],
                accepted_at=datetime.fromisoformat(stored["accepted_at"]),
                raw_response=receipt_path.read_bytes(),
                sandbox=True,
            )
        body.parent.mkdir(parents=True, exist_ok=True)
        header = SANDBOX_HEADER if message.media_type == "message/rfc822" else b""
        body.write_bytes(header + message.payload)
        accepted_at = self._clock()
        message_id = f"sandbox-{uuid.uuid4()}"
        response = {
            "provider": self.provider,
            "sandbox": True,
            "status": "accepted",
            "channel": self.channel,
            "message_id": message_id,
            "idempotency_key": message.idempotency_key,
            "accepted_at": accepted_at.isoformat(),
        }
        raw = json.dumps(response, sort_keys=True).encode()
        tmp = receipt_path.with_name(f".{receipt_path.name}.tmp")
        tmp.write_bytes(raw)
        os.replace(tmp, receipt_path)
        return SendReceipt(
            provider=self.provider,
            provider_message_id=message_id,
            accepted_at=accepted_at,
            raw_response=raw,
            sandbox=True,
        )

    def expected_signals(
        self, message: ProviderMessage, receipt: SendReceipt
    ) -> list[ProviderSignal]:
        delivered_at = receipt.accepted_at + self._delivery
        proof_at = delivered_at + self._proof
        callback = {
            "provider": self.provider,
            "sandbox": True,
            "event": "delivered",
            "channel": self.channel,
            "message_id": receipt.provider_message_id,
            "timestamp": delivered_at.isoformat(),
        }
        signals = [
            ProviderSignal(
                kind="delivered",
                occurred_at=delivered_at,
                raw=json.dumps(callback, sort_keys=True).encode(),
                media_type="application/json",
            )
        ]
        if _unanswered(self.channel, message.address):
            return signals
        if self.channel == "email":
            read = SandboxEmailChannel(self.outbox).simulate_read(
                receipt, message.payload, after=proof_at - receipt.accepted_at
            )
            signals.append(read)
        elif self.channel in {"sms", "whatsapp"}:
            reply = {
                "sandbox": True,
                "From": message.address,
                "Body": "CIENTE",
                "InReplyTo": receipt.provider_message_id,
                "timestamp": proof_at.isoformat(),
            }
            signals.append(
                ProviderSignal(
                    kind="reply",
                    occurred_at=proof_at,
                    raw=json.dumps(reply, sort_keys=True).encode(),
                    media_type="application/json",
                )
            )
        elif self.channel == "ivr":
            script = json.loads(message.payload)
            recording = f"sandbox-{uuid.uuid5(uuid.NAMESPACE_URL, receipt.provider_message_id)}"
            call = {
                "sandbox": True,
                "call_sid": receipt.provider_message_id,
                "template": script["template"],
                "identity_items": script["identity_items"],
                "call_status": "completed",
                "recording_sid": recording,
                "log": [
                    {"at": delivered_at.isoformat(), "event": "answered"},
                    {"at": proof_at.isoformat(), "event": "identity_confirmed", "round": 1},
                    {"at": proof_at.isoformat(), "event": "goodbye"},
                ],
            }
            signals.append(
                ProviderSignal(
                    kind="call_confirmed",
                    occurred_at=proof_at,
                    raw=json.dumps(call, sort_keys=True).encode(),
                    media_type="application/json",
                    details={
                        "recording_sid": recording,
                        "attempt": "1",
                        "identity_items": ",".join(script["identity_items"]),
                    },
                )
            )
        else:
            ar = {
                "sandbox": True,
                "tracking_code": "SANDBOX",
                "status": "delivered",
                "delivered_on": proof_at.date().isoformat(),
                "receiver_name": "SANDBOX",
            }
            signals.append(
                ProviderSignal(
                    kind="ar",
                    occurred_at=proof_at,
                    raw=json.dumps(ar, sort_keys=True).encode(),
                    media_type="application/json",
                )
            )
        return signals

    def fetch_recording(self, recording_id: str) -> tuple[bytes, str]:
        """A sandbox call's "recording": one second of silence whose WAV comment says
        sandbox (implements :class:`ccm.ports.RecordingSource`).

        Raises:
            PermanentChannelError: not a sandbox recording id.
        """
        if not _SANDBOX_RECORDING.match(recording_id):
            raise PermanentChannelError(f"sandbox: no recording {recording_id!r}")
        out = io.BytesIO()
        with wave.open(out, "wb") as audio:
            audio.setnchannels(1)
            audio.setsampwidth(2)
            audio.setframerate(8000)
            audio.writeframes(b"\0\0" * 8000)
        comment = f"SANDBOX {recording_id}: nothing was recorded\0".encode()
        comment += b"\0" * (len(comment) % 2)
        info = b"INFO" + b"ICMT" + len(comment).to_bytes(4, "little") + comment
        riff = out.getvalue() + b"LIST" + len(info).to_bytes(4, "little") + info
        return riff[:4] + (len(riff) - 8).to_bytes(4, "little") + riff[8:], "audio/wav"
