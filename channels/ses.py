"""The e-mail channel through Amazon SES v2 (raw send), and ordered failover between
e-mail transports on one evidence chain.

SES sends the signed bytes as they are, except that it replaces ``Message-ID`` with its
own ``<MessageId@<region>.amazonses.com>`` (documented SES behaviour): read receipts and
bounces name that one, and ``/v1/inbound/email`` maps it back to the SES message id.

Errors: ``MessageRejected``, an unverified sender or a paused account are permanent;
throttling, SES's 5xx and the network are retried (by failover first, when configured).
"""

import json
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from ccm.errors import ChannelError, PermanentChannelError
from ccm.ports import ChannelAdapter, OutgoingMessage, ProviderSignal, SendReceipt
from channels.base import CallbackChannel, now, receipt

if TYPE_CHECKING:
    from mypy_boto3_sesv2 import SESV2Client

__all__ = ["FailoverEmailChannel", "SesChannel"]

_PERMANENT = {
    "MessageRejected",
    "MailFromDomainNotVerifiedException",
    "AccountSuspendedException",
    "SendingPausedException",
    "NotFoundException",
    "BadRequestException",
}


class SesChannel(CallbackChannel):
    """Implements :class:`ccm.ports.ChannelAdapter` for ``email`` through SES v2."""

    channel = "email"
    provider = "ses"

    def __init__(
        self,
        client: "SESV2Client",
        *,
        configuration_set: str | None = None,
        clock: Callable[[], datetime] = now,
    ) -> None:
        self._client = client
        self._configuration_set = configuration_set
        self._clock = clock

    def send(self, message: OutgoingMessage) -> SendReceipt:
        """Raw send; SES's MessageId is the provider message id.

        Raises:
            PermanentChannelError: SES refused the message or the sender.
            ChannelError: throttled, SES unavailable, the network.
        """
        request: dict[str, Any] = {
            "Destination": {"ToAddresses": [message.address]},
            "Content": {"Raw": {"Data": message.payload}},
            "EmailTags": [{"Name": "communication", "Value": message.communication_id}],
        }
        if self._configuration_set:
            request["ConfigurationSetName"] = self._configuration_set
        try:
            answer = self._client.send_email(**request)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            words = f"ses {code}: {error.response.get('Error', {}).get('Message', '')}"
            if code in _PERMANENT:
                raise PermanentChannelError(words) from error
            raise ChannelError(words) from error
        except BotoCoreError as error:
            raise ChannelError(f"ses: {error}") from error
        return receipt(
            self.provider,
            answer["MessageId"],
            self._clock(),
            message_id=answer["MessageId"],
            recipient=message.address,
        )

    # SES forwards bounces, and receipts come by mail: /v1/inbound/email.


class FailoverEmailChannel:
    """Implements :class:`ccm.ports.ChannelAdapter`: tries each transport in order while
    they fail temporarily; the receipt names the one that took the message and keeps
    what the others answered, so one evidence chain shows the whole attempt. A permanent
    refusal (the recipient's address, the content) is final: another transport would
    be refused too."""

    channel = "email"

    def __init__(self, transports: Sequence[ChannelAdapter]) -> None:
        if not transports:
            raise ValueError("failover needs at least one transport")
        self._transports = list(transports)
        self.provider = "+".join(t.provider for t in self._transports)

    def send(self, message: OutgoingMessage) -> SendReceipt:
        """Send through the first transport that takes the message.

        Raises:
            PermanentChannelError: a transport refused the message for good.
            ChannelError: every transport failed temporarily.
        """
        failures = []
        for transport in self._transports:
            try:
                receipt = transport.send(message)
            except PermanentChannelError:
                raise
            except ChannelError as error:
                failures.append({"provider": transport.provider, "error": str(error)})
                continue
            answer = json.loads(receipt.raw_response)
            raw = json.dumps({**answer, "failed_over": failures}, sort_keys=True).encode()
            return SendReceipt(
                provider=receipt.provider,
                provider_message_id=receipt.provider_message_id,
                accepted_at=receipt.accepted_at,
                raw_response=raw,
                sandbox=receipt.sandbox,
            )
        raise ChannelError(
            "every e-mail transport failed: "
            + "; ".join(f"{f['provider']}: {f['error']}" for f in failures)
        )

    def expected_signals(
        self, message: OutgoingMessage, receipt: SendReceipt
    ) -> list[ProviderSignal]:
        for transport in self._transports:
            if transport.provider == receipt.provider:
                return transport.expected_signals(message, receipt)
        return []
