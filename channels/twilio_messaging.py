"""SMS and WhatsApp through Twilio's Programmable Messaging, with the real ``twilio`` client.

Each message asks Twilio for status callbacks at ``/v1/webhooks/twilio/status``; replies
from the recipient arrive at ``/v1/webhooks/twilio/inbound``. Both are signed by Twilio
(``X-Twilio-Signature``) and checked against ``CCM_PUBLIC_BASE_URL``.

Errors: Twilio answers 4xx for what will never work (an invalid or unreachable number,
an unverified sender: codes 21211, 21408, 21610, 21614, 63016...), which fails the channel
for good; 429, 5xx and network errors are retried. Twilio takes no idempotency key for
messages: a worker dying between Twilio's 201 and recording it sends again on retry.
"""

import json
import urllib.parse
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from ccm.errors import ChannelError, PermanentChannelError
from ccm.ports import WHATSAPP_TEMPLATE_MEDIA_TYPE, OutgoingMessage, SendReceipt
from channels.base import CallbackChannel, now, receipt

__all__ = ["RedirectedHttpClient", "TwilioMessagingChannel", "twilio_client", "twilio_error"]


class RedirectedHttpClient(TwilioHttpClient):  # type: ignore[misc]
    """Twilio's own HTTP client, with every ``https://*.twilio.com`` URL re-rooted at
    ``base_url``: a Twilio-compatible endpoint (a regional proxy, a test peer)."""

    def __init__(self, base_url: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._base = urllib.parse.urlsplit(base_url)

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        parts = urllib.parse.urlsplit(url)
        url = urllib.parse.urlunsplit(
            (self._base.scheme, self._base.netloc, parts.path, parts.query, parts.fragment)
        )
        return super().request(method, url, *args, **kwargs)


def twilio_error(error: Exception) -> ChannelError:
    """What a failed Twilio request means: 4xx other than 429 will never work (an invalid
    number, an unverified sender); 429, 5xx and network errors are worth a retry."""
    if isinstance(error, TwilioRestException):
        words = f"twilio {error.status} {error.code}: {error.msg}"
        if 400 <= error.status < 500 and error.status != 429:
            return PermanentChannelError(words)
        return ChannelError(words)
    return ChannelError(f"twilio: {error}")


def twilio_client(account_sid: str, auth_token: str, *, api_base_url: str | None) -> Client:
    """The real client; with ``api_base_url`` its requests go there instead of Twilio."""
    http = RedirectedHttpClient(api_base_url, timeout=30) if api_base_url else None
    return Client(account_sid, auth_token, http_client=http)


class TwilioMessagingChannel(CallbackChannel):
    """Implements :class:`ccm.ports.ChannelAdapter` for ``sms`` or ``whatsapp``."""

    provider = "twilio"

    def __init__(
        self,
        channel: str,
        client: Client,
        *,
        sender: str,
        status_callback: str,
        content_sids: Mapping[str, str] | None = None,
        clock: Callable[[], datetime] = now,
    ) -> None:
        if channel not in {"sms", "whatsapp"}:
            raise ValueError(f"Twilio messaging has no {channel} channel")
        self.channel = channel
        self._client = client
        self._prefix = "whatsapp:" if channel == "whatsapp" else ""
        self._sender = sender
        self._callback = status_callback
        self._content_sids = dict(content_sids or {})
        """Template id -> the Content SID of its approved WhatsApp template."""
        self._clock = clock

    def send(self, message: OutgoingMessage) -> SendReceipt:
        """Create the message at Twilio; its SID is the provider message id.

        Raises:
            PermanentChannelError: Twilio refused it for good (4xx other than 429).
            ChannelError: rate limited, Twilio unavailable, the network.
        """
        content: dict[str, str] = {"body": message.payload.decode("utf-8")}
        if message.media_type == WHATSAPP_TEMPLATE_MEDIA_TYPE:
            templated = json.loads(message.payload)
            sid = self._content_sids.get(templated["template"])
            if sid:  # business-initiated WhatsApp: Meta's approved template and its values
                variables = json.dumps(templated["variables"], ensure_ascii=False)
                content = {"content_sid": sid, "content_variables": variables}
            else:
                content = {"body": templated["body"]}
        try:
            created = self._client.messages.create(
                to=self._prefix + message.address,
                from_=self._prefix + self._sender,
                status_callback=self._callback,
                **content,
            )
        except (TwilioException, OSError) as error:
            raise twilio_error(error) from error
        return receipt(
            self.provider,
            str(created.sid),
            self._clock(),
            sid=created.sid,
            status=created.status,
            to=created.to,
            **{"from": created.from_},
        )

    # Twilio calls back: /v1/webhooks/twilio/status and /inbound.
