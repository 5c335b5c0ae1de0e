"""Signals that providers and recipients send back (bounces, read receipts, replies):
matched to the communication they are about and queued for the pipeline to record.

The raw signal is stored as an artefact first, then a ``signal`` job is written in the
outbox; the pipeline turns it into an evidence event exactly as it does for the
sandbox's simulated signals, so one path records every signal. The same signal received
twice is stored once and recorded once (its event id comes from its hash).
"""

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, delete, select
from sqlalchemy.engine import Connection

from ccm.persistence.tables import communications, deliveries, early_signals, jobs
from ccm.ports import ArtifactStore
from ccm.service.outbox import add_job

__all__ = [
    "InboundSignal",
    "open_delivery",
    "awaiting_reply",
    "queue_signal",
    "record_signal",
    "release_early_signals",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class InboundSignal:
    channel: str | None
    """None: whichever channel sent the message with that provider id."""
    provider: str
    provider_message_id: str
    """The id the provider gave the message when we sent it (for e-mail, its Message-ID)."""
    kind: str
    """``delivered``, ``bounce``, ``mdn``, ``reply``..., as the pipeline knows them."""
    raw: bytes
    media_type: str
    details: dict[str, str]
    """Extra payload for the event: ``disposition`` of an MDN, ``reason`` of a bounce."""
    occurred_at: datetime | None = None
    """When it happened, if the signal says (an AR's date); default: when received."""


def record_signal(
    engine: Engine,
    store: ArtifactStore,
    signal: InboundSignal,
    *,
    now: datetime,
    hold: bool = False,
) -> str | None:
    """Queue ``signal`` for the communication it is about; return that communication's
    id, or ``None`` when no message ccm sent has that provider id.

    With ``hold``, an unmatched signal is kept and queued once the send it names is
    recorded (providers call back fast: a status may arrive before we record the send).
    """
    query = select(deliveries.c.communication_id, deliveries.c.channel).where(
        deliveries.c.provider == signal.provider,
        deliveries.c.provider_message_id == signal.provider_message_id,
    )
    if signal.channel is not None:
        query = query.where(deliveries.c.channel == signal.channel)
    with engine.connect() as connection:
        found = connection.execute(query).first()
    if found is None and not hold:
        return None  # nothing stored for a message ccm never sent
    payload = _payload(store, signal, now)
    if found is None:
        with engine.begin() as connection:
            connection.execute(
                early_signals.insert().values(
                    provider=signal.provider,
                    provider_message_id=signal.provider_message_id,
                    payload=json.dumps(payload),
                    received_at=now,
                )
            )
        # The send may have been recorded meanwhile, its release having run before this
        # signal was held: look again, and release it ourselves if so.
        with engine.begin() as connection:
            found = connection.execute(query).first()
            if found is not None:
                release_early_signals(
                    connection,
                    provider=signal.provider,
                    provider_message_id=signal.provider_message_id,
                    communication_id=str(found.communication_id),
                    channel=found.channel,
                )
        return None if found is None else str(found.communication_id)
    communication_id, channel = found
    with engine.begin() as connection:
        _queue(connection, payload, communication_id=str(communication_id), channel=channel)
    return str(communication_id)


def queue_signal(
    engine: Engine,
    store: ArtifactStore,
    signal: InboundSignal,
    *,
    communication_id: str,
    channel: str,
    now: datetime,
) -> None:
    """Store the raw signal and queue it for the pipeline (once per raw content)."""
    payload = _payload(store, signal, now)
    with engine.begin() as connection:
        _queue(connection, payload, communication_id=communication_id, channel=channel)


def release_early_signals(
    connection: Connection,
    *,
    provider: str,
    provider_message_id: str,
    communication_id: str,
    channel: str,
) -> None:
    """Queue the signals that named this send before it was recorded (in the caller's
    transaction, the one that records the send)."""
    held = connection.execute(
        select(early_signals.c.id, early_signals.c.payload).where(
            early_signals.c.provider == provider,
            early_signals.c.provider_message_id == provider_message_id,
        )
    ).all()
    for row in held:
        _queue(
            connection, json.loads(row.payload), communication_id=communication_id, channel=channel
        )
    if held:
        connection.execute(
            delete(early_signals).where(early_signals.c.id.in_([r.id for r in held]))
        )


def _payload(store: ArtifactStore, signal: InboundSignal, now: datetime) -> dict[str, Any]:
    """The signal job's payload, the raw signal stored as an artefact."""
    stored = store.put(signal.raw, media_type=signal.media_type)
    return {
        "kind": signal.kind,
        "sha256": stored.sha256,
        "media_type": signal.media_type,
        "occurred_at": (signal.occurred_at or now).isoformat(),
        "provider": signal.provider,
        "provider_message_id": signal.provider_message_id,
        "sandbox": False,
        **signal.details,
    }


def _queue(
    connection: Connection, payload: dict[str, Any], *, communication_id: str, channel: str
) -> None:
    """Add the signal job unless one with the same raw content is queued already."""
    queued = connection.execute(
        select(jobs.c.payload).where(
            jobs.c.communication_id == communication_id, jobs.c.kind == "signal"
        )
    ).scalars()
    if not any(json.loads(p).get("sha256") == payload["sha256"] for p in queued):
        add_job(
            connection,
            communication_id=communication_id,
            kind="signal",
            channel=channel,
            run_after=datetime.fromisoformat(payload["occurred_at"]),
            payload=payload,
        )


def awaiting_reply(engine: Engine, channel: str, phone: str) -> tuple[str, str] | None:
    """The latest message on ``channel`` to ``phone`` still waiting for its proof:
    ``(communication id, provider message id)``, or None.

    A reply names no message; it answers the latest one sent to that number (rule R15
    accepts a reply only from the registered number: the request's ``recipient.phone``).
    """
    with engine.connect() as connection:
        rows = connection.execute(
            select(
                deliveries.c.communication_id,
                deliveries.c.provider_message_id,
                communications.c.recipient,
            )
            .select_from(
                deliveries.join(
                    communications, communications.c.id == deliveries.c.communication_id
                )
            )
            .where(
                deliveries.c.channel == channel,
                deliveries.c.state.in_(("sent", "delivered")),
                deliveries.c.provider_message_id.is_not(None),
            )
            .order_by(deliveries.c.updated_at.desc())
        )
        for row in rows:
            if json.loads(row.recipient).get("phone") == phone:
                return str(row.communication_id), str(row.provider_message_id)
    return None


def open_delivery(
    engine: Engine,
    *,
    communication_id: str,
    channel: str,
    provider: str,
    provider_message_id: str,
    now: datetime,
) -> None:
    """Record a delivery ccm did not send itself (a notice handed over in person), so its
    signals move the communication like any other channel's."""
    with engine.begin() as connection:
        exists = connection.execute(
            select(deliveries.c.state).where(
                deliveries.c.communication_id == communication_id, deliveries.c.channel == channel
            )
        ).first()
        if exists is None:
            connection.execute(
                deliveries.insert().values(
                    communication_id=communication_id,
                    channel=channel,
                    state="sent",
                    attempts=1,
                    provider=provider,
                    provider_message_id=provider_message_id,
                    updated_at=now,
                )
            )
