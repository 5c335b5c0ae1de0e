"""Agent calls: the operator's own attendants call the payer, following ccm's script.

"Sending" issues nothing outside: the protocol number was issued before the call and the
script page rendered with it (the pipeline stores it as the message); the call waits in
the agents' queue (``GET /v1/communications?channel=agent_call``...) until an agent posts
its outcome to ``/v1/communications/{id}/agent-outcome``.
"""

from collections.abc import Callable
from datetime import datetime

from ccm.errors import PermanentChannelError
from ccm.ports import OutgoingMessage, SendReceipt
from channels.base import CallbackChannel, now, receipt

__all__ = ["AgentQueueChannel"]


class AgentQueueChannel(CallbackChannel):
    """Implements :class:`ccm.ports.ChannelAdapter` for ``agent_call``."""

    channel = "agent_call"
    provider = "agents"

    def __init__(self, *, clock: Callable[[], datetime] = now) -> None:
        self._clock = clock

    def send(self, message: OutgoingMessage) -> SendReceipt:
        """Put the call in the agents' queue under its protocol number.

        Raises:
            PermanentChannelError: the call has no protocol number.
        """
        if not message.reference:
            raise PermanentChannelError("an agent call needs its protocol number first")
        return receipt(
            self.provider,
            message.reference,
            self._clock(),
            protocol=message.reference,
            state="queued_for_agents",
        )

    # The agent reports: /v1/communications/{id}/agent-outcome.
