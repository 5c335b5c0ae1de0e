"""Agent calls: the operator's own attendants call the payer, following ccm's script.

"Sending" issues nothing outside: the protocol number was issued before the call and the
script page rendered with it (the pipeline stores it as the message); the call waits in
the agents' queue (``GET /v1/communications?channel=agent_call``...) until an agent posts
its outcome to ``/v1/communications/{id}/agent-outcome``.
"""

import json
from collections.abc import Callable
from datetime import UTC, datetime

from ccm.errors import PermanentChannelError
from ccm.ports import OutgoingMessage, ProviderSignal, SendReceipt

__all__ = ["AgentQueueChannel"]


def _now() -> datetime:
    return datetime.now(UTC)


class AgentQueueChannel:
    """Implements :class:`ccm.ports.ChannelAdapter` for ``agent_call``."""

    channel = "agent_call"
    provider = "agents"

    def __init__(self, *, clock: Callable[[], datetime] = _now) -> None:
        self._clock = clock

    def send(self, message: OutgoingMessage) -> SendReceipt:
        """Put the call in the agents' queue under its protocol number.

        Raises:
            PermanentChannelError: the call has no protocol number.
        """
        if not message.reference:
            raise PermanentChannelError("an agent call needs its protocol number first")
        now = self._clock()
        response = {"provider": self.provider, "protocol": message.reference,
                    "state": "queued_for_agents", "accepted_at": now.isoformat()}  # fmt: skip
        return SendReceipt(
            provider=self.provider,
            provider_message_id=message.reference,
            accepted_at=now,
            raw_response=json.dumps(response, sort_keys=True).encode(),
        )

    def expected_signals(
        self, message: OutgoingMessage, receipt: SendReceipt
    ) -> list[ProviderSignal]:
        return []  # the agent reports: /v1/communications/{id}/agent-outcome
