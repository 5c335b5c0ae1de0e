"""A provider callback that arrives before the send it names is recorded is held, then
queued in the same transaction that records the send, never lost."""

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from ccm.persistence.artifacts import FileArtifactStore
from ccm.persistence.tables import early_signals, jobs
from ccm.service.inbound import InboundSignal, record_signal, release_early_signals
from tests.api.conftest import Service


def test_an_early_callback_is_held_then_queued_with_the_send(
    service: Service, submit: Any, request_body: dict[str, Any]
) -> None:
    communication_id = submit(request_body).json()["id"]
    store = FileArtifactStore(service.settings.home / "artifacts")
    signal = InboundSignal(
        channel=None,
        provider="twilio",
        provider_message_id="SMearly0001",
        kind="delivered",
        raw=b'{"MessageSid": "SMearly0001", "MessageStatus": "delivered"}',
        media_type="application/json",
        details={},
    )
    now = datetime.now(UTC)
    assert record_signal(service.engine, store, signal, now=now) is None  # not held: dropped
    with service.engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(early_signals)).scalar() == 0
    assert record_signal(service.engine, store, signal, now=now, hold=True) is None
    with service.engine.begin() as connection:
        release_early_signals(
            connection,
            provider="twilio",
            provider_message_id="SMearly0001",
            communication_id=communication_id,
            channel="sms",
        )
    with service.engine.connect() as connection:
        held = connection.execute(select(func.count()).select_from(early_signals)).scalar()
        queued = connection.execute(
            select(jobs.c.channel, jobs.c.payload).where(
                jobs.c.communication_id == communication_id,
                jobs.c.kind == "signal",
                jobs.c.channel == "sms",
            )
        ).all()
    assert held == 0
    assert len(queued) == 1 and '"provider_message_id": "SMearly0001"' in queued[0].payload
