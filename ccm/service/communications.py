"""Accepting communication requests: validate, de-duplicate, write request and job at once.

The request row and its first job are written in one transaction (the transactional
outbox), so a request that was answered 202 is never lost, and a request that failed
validation leaves nothing behind.
"""

import hashlib
import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from ccm.errors import CCMError, DataError, DataValidationError
from ccm.evidence.records import canonical
from ccm.persistence.tables import communications, deliveries
from ccm.service.outbox import add_job
from ccm.service.templates import TemplateCatalog

__all__ = [
    "SUPPORTED_CHANNELS",
    "CommunicationRecord",
    "IdempotencyConflict",
    "Status",
    "SubmitRequest",
    "get_communication",
    "submit",
    "utc",
]

SUPPORTED_CHANNELS = ("email", "sms", "whatsapp", "ivr", "registered_mail", "agent_call")
"""Channels the service sends."""
_CHANNEL_RENDERING = {
    "email": "email",
    "sms": "sms",
    "whatsapp": "whatsapp",
    "ivr": "voice",
    "registered_mail": "document",
    "agent_call": "agent_script",
}


class Status(StrEnum):
    """Where a communication stands; ``proven`` once a legal proof is recorded."""

    ACCEPTED = "accepted"
    PROCESSING = "processing"
    SENT = "sent"
    DELIVERED = "delivered"
    PROVEN = "proven"
    FAILED = "failed"
    CANCELLED = "cancelled"


class IdempotencyConflict(CCMError):
    """The idempotency key was used before with a different request."""


def utc(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; everything ccm stores is UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True, kw_only=True)
class SubmitRequest:
    """A validated API request (the API edge checks shapes; this checks meaning)."""

    template: str
    locale: str | None
    data: Mapping[str, Any]
    recipient: Mapping[str, Any]
    channels: Sequence[str] | None = None
    case_id: str | None = None

    def fingerprint(self) -> str:
        """SHA-256 of the request as canonical JSON (for idempotency)."""
        body = {
            "template": self.template,
            "locale": self.locale,
            "data": self.data,
            "recipient": self.recipient,
            "channels": list(self.channels) if self.channels is not None else None,
            "case_id": self.case_id,
        }
        return hashlib.sha256(canonical(body)).hexdigest()


@dataclass(frozen=True, slots=True, kw_only=True)
class CommunicationRecord:
    """A communication as stored."""

    id: str
    template: str
    template_version: str
    locale: str
    status: Status
    channels: tuple[str, ...]
    case_id: str | None
    submitted_by: str
    created_at: datetime
    updated_at: datetime
    document_id: str | None
    data: Mapping[str, Any] = field(repr=False)
    recipient: Mapping[str, Any] = field(repr=False)
    deliveries: tuple[Mapping[str, Any], ...] = ()


def _default_channels(recipient: Mapping[str, Any], available: Sequence[str]) -> list[str]:
    """Without preferences: e-mail, else a text message, else a registered letter."""
    for channel, needs in (
        ("email", "email"),
        ("whatsapp", "phone"),
        ("sms", "phone"),
        ("registered_mail", "address"),
    ):
        if channel in available and recipient.get(needs):
            return [channel]
    return []


def _channels(request: SubmitRequest, available: Sequence[str]) -> list[str]:
    errors = []
    chosen = (
        list(request.channels)
        if request.channels is not None
        else _default_channels(request.recipient, available)
    )
    if not chosen:
        errors.append(
            DataError(path="channels", message="no channel: give channels or contact data")
        )
    needs = {
        "email": "email",
        "sms": "phone",
        "whatsapp": "phone",
        "ivr": "phone",
        "registered_mail": "address",
        "agent_call": "phone",
    }
    for i, channel in enumerate(chosen):
        if channel not in SUPPORTED_CHANNELS:
            errors.append(
                DataError(
                    path=f"channels[{i}]",
                    message=f"{channel!r} is not sent by this service "
                    f"(one of {', '.join(SUPPORTED_CHANNELS)})",
                )
            )
        elif _CHANNEL_RENDERING[channel] not in available:
            errors.append(
                DataError(path=f"channels[{i}]", message=f"the template has no {channel} variant")
            )
        elif not request.recipient.get(needs[channel]):
            errors.append(
                DataError(
                    path=f"recipient.{needs[channel]}",
                    message=f"required to send by {channel}",
                )
            )
    if len(set(chosen)) != len(chosen):
        errors.append(DataError(path="channels", message="each channel at most once"))
    if errors:
        raise DataValidationError(errors)
    return chosen


def submit(
    engine: Engine,
    catalog: TemplateCatalog,
    request: SubmitRequest,
    *,
    submitted_by: str,
    idempotency_key: str | None,
    now: datetime,
    fingerprint: str | None = None,
) -> tuple[CommunicationRecord, bool]:
    """Accept ``request``; return the communication and whether it is new.

    ``fingerprint`` identifies the request for idempotency when the caller completed it
    (from a stored profile, say) after it was sent; default: the request's own.

    Raises:
        DataValidationError: the data breaks the template's contract, or a channel cannot
            be used (each error names its JSON path).
        TemplateNotFound: unknown template or locale.
        IdempotencyConflict: ``idempotency_key`` was used with a different request.
    """
    fingerprint = fingerprint or request.fingerprint()
    if idempotency_key is not None:
        existing = _by_idempotency(engine, submitted_by, idempotency_key)
        if existing is not None:
            return _same_or_conflict(engine, existing, fingerprint), False
    # The current approved version now; the communication keeps it to the end.
    composer = catalog.current(request.template)
    composition = composer.prepare(request.template, request.data, locale=request.locale)
    variant = composition.variant
    chosen = _channels(request, [str(c) for c in variant.spec.channels])
    communication_id = f"com_{uuid.uuid4().hex[:20]}"
    row = {
        "id": communication_id,
        "template": variant.manifest.id,
        "template_version": variant.manifest.version,
        "locale": variant.locale,
        "data": json.dumps(request.data, ensure_ascii=False),
        "recipient": json.dumps(request.recipient, ensure_ascii=False),
        "channels": json.dumps(chosen),
        "case_id": request.case_id,
        "status": Status.ACCEPTED,
        "submitted_by": submitted_by,
        "idempotency_key": idempotency_key,
        "request_hash": fingerprint,
        "document_id": composition.doc.id,
        "created_at": now,
        "updated_at": now,
    }
    try:
        with engine.begin() as connection:
            connection.execute(communications.insert().values(**row))
            add_job(connection, communication_id=communication_id, kind="compose", run_after=now)
    except IntegrityError:  # the same key raced in from another request
        if idempotency_key is None:
            raise
        existing = _by_idempotency(engine, submitted_by, idempotency_key)
        if existing is None:
            raise
        return _same_or_conflict(engine, existing, fingerprint), False
    record = get_communication(engine, communication_id)
    assert record is not None
    return record, True


def _by_idempotency(engine: Engine, submitted_by: str, key: str) -> tuple[str, str] | None:
    with engine.connect() as connection:
        row = connection.execute(
            select(communications.c.id, communications.c.request_hash).where(
                communications.c.submitted_by == submitted_by,
                communications.c.idempotency_key == key,
            )
        ).first()
    return (row.id, row.request_hash) if row else None


def _same_or_conflict(
    engine: Engine, existing: tuple[str, str], fingerprint: str
) -> CommunicationRecord:
    if existing[1] != fingerprint:
        raise IdempotencyConflict(
            f"Idempotency-Key was already used for communication {existing[0]} with a "
            "different request"
        )
    record = get_communication(engine, existing[0])
    assert record is not None
    return record


def _record(row: Any, delivery_rows: Sequence[Any]) -> CommunicationRecord:
    return CommunicationRecord(
        id=row.id,
        template=row.template,
        template_version=row.template_version,
        locale=row.locale,
        status=Status(row.status),
        channels=tuple(json.loads(row.channels)),
        case_id=row.case_id,
        submitted_by=row.submitted_by,
        created_at=utc(row.created_at),
        updated_at=utc(row.updated_at),
        document_id=row.document_id,
        data=json.loads(row.data),
        recipient=json.loads(row.recipient),
        deliveries=tuple(
            {
                "channel": d.channel,
                "state": d.state,
                "attempts": d.attempts,
                "provider": d.provider,
                "provider_message_id": d.provider_message_id,
                "updated_at": utc(d.updated_at),
            }
            for d in delivery_rows
        ),
    )


def get_communication(
    engine: Engine, communication_id: str, connection: Connection | None = None
) -> CommunicationRecord | None:
    """The communication with its deliveries, or ``None``."""
    if connection is None:
        with engine.connect() as own:
            return get_communication(engine, communication_id, own)
    row = connection.execute(
        select(communications).where(communications.c.id == communication_id)
    ).first()
    if row is None:
        return None
    rows = connection.execute(
        select(deliveries)
        .where(deliveries.c.communication_id == communication_id)
        .order_by(deliveries.c.channel)
    ).all()
    return _record(row, rows)
