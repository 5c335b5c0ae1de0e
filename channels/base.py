"""What the real-provider adapters share: the clock, the receipt, and no simulated signals
(their signals come back by callback, by mail or by import)."""

import json
from datetime import UTC, datetime
from typing import Any

from ccm.ports import OutgoingMessage, ProviderSignal, SendReceipt

__all__ = ["CallbackChannel", "now", "receipt"]


def now() -> datetime:
    return datetime.now(UTC)


def receipt(
    provider: str, provider_message_id: str, accepted_at: datetime, **response: Any
) -> SendReceipt:
    """The receipt of a send, keeping the provider's answer (as JSON) for the evidence."""
    answer = {"provider": provider, "accepted_at": accepted_at.isoformat(), **response}
    return SendReceipt(
        provider=provider,
        provider_message_id=provider_message_id,
        accepted_at=accepted_at,
        raw_response=json.dumps(answer, sort_keys=True, ensure_ascii=False).encode(),
    )


class CallbackChannel:
    """Base of adapters whose signals arrive later from outside (nothing is simulated)."""

    def expected_signals(
        self, message: OutgoingMessage, receipt: SendReceipt
    ) -> list[ProviderSignal]:
        return []
