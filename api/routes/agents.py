"""Agent calls: the script page of a call, and what the agent reports after it.

A call's protocol number is issued before the call and printed on its script (RN 623).
The agent reports each attempt (1 to 5). Only the payer may hear about the debt (rule R12):
a report that the notice was given to anyone else is refused. The notice counts as given
(rule R16) when the person confirmed three identity items, the CPF among them, on a
recorded call: the recording is pinned by its SHA-256 (kept by the call recorder under its
reference) or uploaded here.
"""

import base64
import binascii
import json
from datetime import UTC, date, datetime, time
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Response, status
from pydantic import BaseModel, Field, model_validator
from sqlalchemy import select

from api.deps import Services, require, services
from api.schemas import ErrorOut, RequestBody
from ccm.errors import DataError, DataValidationError
from ccm.evidence.events import EventType
from ccm.persistence.tables import deliveries
from ccm.service.communications import CommunicationRecord, get_communication
from ccm.service.inbound import InboundSignal, open_delivery, queue_signal
from ccm.service.keys import ApiKey, Role
from ccm.service.recipients import BRASILIA

__all__ = [
    "AgentOutcomeIn",
    "InPersonReceiptIn",
    "OutcomeOut",
    "RecordingIn",
    "in_person_receipt",
    "outcome",
    "router",
    "script",
]

router = APIRouter(prefix="/v1/communications", tags=["agent calls"])
MAX_ATTEMPTS = 5
IdentityItem = Literal["cpf", "birth_date", "mother_name", "address", "plan_number", "phone"]
_RESPONSES: dict[int | str, dict[str, object]] = {
    403: {"model": ErrorOut},
    404: {"model": ErrorOut},
    409: {"model": ErrorOut},
    422: {"model": ErrorOut},
}


class RecordingIn(RequestBody):
    reference: str = Field(min_length=1, max_length=200, description="The recorder's call id.")
    sha256: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")
    media_type: str = Field(default="audio/mpeg", pattern=r"^audio/[a-z0-9.+-]+$")
    content_base64: str | None = Field(
        default=None, max_length=1_500_000, description="The recording itself (small files)."
    )

    @model_validator(mode="after")
    def _hash_or_content(self) -> "RecordingIn":
        if (self.sha256 is None) == (self.content_base64 is None):
            raise ValueError("give the recording's sha256 or its content_base64 (one of them)")
        return self


class AgentOutcomeIn(RequestBody):
    protocol: str = Field(min_length=1, max_length=40, description="Issued before the call.")
    ticket: str | None = Field(default=None, max_length=60)
    attempt: int = Field(ge=1, le=MAX_ATTEMPTS)
    interlocutor_role: Literal["payer", "dependent", "third_party"]
    identity_confirmed: list[IdentityItem] = Field(default_factory=list, max_length=6)
    outcome: Literal[
        "notified", "disputed", "refused", "not_reached", "wrong_number", "callback_requested"
    ]
    recording: RecordingIn | None = None
    agent_id: str = Field(min_length=1, max_length=60)
    notes: str | None = Field(default=None, max_length=500)


class OutcomeOut(BaseModel):
    communication_id: str
    kind: str
    proof_expected: bool = Field(description="Whether this report is a legal proof (R16).")


class InPersonReceiptIn(RequestBody):
    received_by_role: Literal["payer", "dependent", "third_party"]
    signed_on: date
    place: str | None = Field(default=None, max_length=120)
    receipt_base64: str = Field(
        min_length=4, max_length=1_500_000, description="The scanned receipt the person signed."
    )
    media_type: Literal["application/pdf", "image/jpeg", "image/png"] = "application/pdf"
    agent_id: str = Field(min_length=1, max_length=60)


def _protocol_of(svc: Services, record: CommunicationRecord) -> str | None:
    with svc.engine.connect() as connection:
        found = connection.execute(
            select(deliveries.c.provider_message_id).where(
                deliveries.c.communication_id == record.id,
                deliveries.c.channel == "agent_call",
            )
        ).scalar()
    return str(found) if found else None


def _record(svc: Services, communication_id: str) -> CommunicationRecord:
    record = get_communication(svc.engine, communication_id)
    if record is None or "agent_call" not in record.channels:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, f"no agent call for communication {communication_id}"
        )
    return record


@router.get("/{communication_id}/agent-script", response_class=Response, responses=_RESPONSES)
def script(
    communication_id: str,
    svc: Annotated[Services, Depends(services)],
    key: Annotated[ApiKey, Depends(require(Role.AGENT, Role.LEGAL))],
) -> Response:
    """The call's script page (pt-BR HTML), with its protocol number."""
    record = _record(svc, communication_id)
    if record.status == "cancelled":
        raise HTTPException(status.HTTP_409_CONFLICT, "the call was cancelled; do not make it")
    for event in svc.ledger.records(communication_id=record.id):
        body = event.body
        if body["type"] == EventType.RELAY_ACCEPTED and body["channel"] == "agent_call":
            html = svc.store.get(body["artifacts"][0]["sha256"])
            return Response(html, media_type="text/html; charset=utf-8")
    raise HTTPException(status.HTTP_409_CONFLICT, "the call is not queued yet; try again soon")


@router.post(
    "/{communication_id}/agent-outcome",
    response_model=OutcomeOut,
    status_code=status.HTTP_202_ACCEPTED,
    responses=_RESPONSES,
)
def outcome(
    communication_id: str,
    body: AgentOutcomeIn,
    svc: Annotated[Services, Depends(services)],
    key: Annotated[ApiKey, Depends(require(Role.AGENT))],
) -> OutcomeOut:
    """Report one call attempt. Refused (422, nothing recorded) when the notice was given
    to someone other than the payer, or reported as given without the identity checks."""
    record = _record(svc, communication_id)
    if record.status == "cancelled":  # the debt was paid, or the notice proved elsewhere
        raise HTTPException(status.HTTP_409_CONFLICT, "the call was cancelled; do not make it")
    protocol = _protocol_of(svc, record)
    if protocol is None:
        raise HTTPException(status.HTTP_409_CONFLICT, "the call is not queued yet; try again soon")
    errors = []
    if body.protocol != protocol:
        errors.append(DataError(path="protocol", message=f"this call's protocol is {protocol}"))
    gives_notice = body.outcome in {"notified", "disputed"}
    if gives_notice and body.interlocutor_role != "payer":
        errors.append(
            DataError(
                path="interlocutor_role",
                message="the debt is disclosed only to the payer, never to a dependent or "
                "a third party (rule R12)",
            )
        )
    items = set(body.identity_confirmed)
    if gives_notice and ("cpf" not in items or len(items) < 3):
        errors.append(
            DataError(
                path="identity_confirmed",
                message="the notice is given after three identity items, the CPF among them",
            )
        )
    recording_sha, content = None, None
    if body.recording is not None:
        recording_sha = body.recording.sha256
        if body.recording.content_base64 is not None:
            try:
                content = base64.b64decode(body.recording.content_base64, validate=True)
            except binascii.Error:
                errors.append(DataError(path="recording.content_base64", message="not base64"))
    if errors:
        raise DataValidationError(errors)
    if content is not None:
        assert body.recording is not None
        recording_sha = svc.store.put(content, media_type=body.recording.media_type).sha256
    kind = {
        "notified": "call_confirmed",
        "disputed": "dispute",
        "refused": "call_refused",
    }.get(body.outcome, "attempts_exhausted" if body.attempt == MAX_ATTEMPTS else "attempt_failed")
    report = body.model_dump(mode="json", exclude={"recording"})
    report["recording"] = (
        {"reference": body.recording.reference, "sha256": recording_sha} if body.recording else None
    )
    details = {
        "agent_id": body.agent_id,
        "attempt": str(body.attempt),
        "protocol": protocol,
        "identity_items": ",".join(sorted(items)),
        "method": "agent_call",
        "keyword": "QUESTIONAR",
        "reason": {
            "refused": "the payer refused to hear the notice",
            "not_reached": "nobody answered",
            "wrong_number": "the number is not the payer's",
            "callback_requested": "asked to be called back",
        }.get(body.outcome, body.outcome),
    }
    if recording_sha and body.recording:
        details |= {
            "recording_sha256": recording_sha,
            "recording_media_type": body.recording.media_type,
        }
    signal = InboundSignal(
        channel="agent_call",
        provider="agents",
        provider_message_id=protocol,
        kind=kind,
        raw=json.dumps(
            {**report, "reported_by": key.id}, ensure_ascii=False, sort_keys=True
        ).encode(),
        media_type="application/json",
        details=details,
    )
    queue_signal(
        svc.engine,
        svc.store,
        signal,
        communication_id=record.id,
        channel="agent_call",
        now=datetime.now(UTC),
    )
    return OutcomeOut(
        communication_id=record.id,
        kind=kind,
        proof_expected=kind == "call_confirmed" and recording_sha is not None,
    )


@router.post(
    "/{communication_id}/in-person-receipt",
    response_model=OutcomeOut,
    status_code=status.HTTP_202_ACCEPTED,
    responses=_RESPONSES,
)
def in_person_receipt(
    communication_id: str,
    body: InPersonReceiptIn,
    svc: Annotated[Services, Depends(services)],
    key: Annotated[ApiKey, Depends(require(Role.AGENT))],
) -> OutcomeOut:
    """The notice handed over in person: the receipt signed by the payer is the legal
    proof (rule R18), dated with the signature."""
    record = get_communication(svc.engine, communication_id)
    if record is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no communication {communication_id}")
    errors = []
    if body.received_by_role != "payer":
        errors.append(
            DataError(
                path="received_by_role",
                message="the debt is disclosed only to the payer (rule R12)",
            )
        )
    if body.signed_on > datetime.now(BRASILIA).date():
        errors.append(DataError(path="signed_on", message="cannot be in the future"))
    try:
        receipt = base64.b64decode(body.receipt_base64, validate=True)
    except binascii.Error:
        errors.append(DataError(path="receipt_base64", message="not base64"))
        receipt = b""
    if errors:
        raise DataValidationError(errors)
    stored = svc.store.put(receipt, media_type=body.media_type)
    now = datetime.now(UTC)
    report = body.model_dump(mode="json", exclude={"receipt_base64"})
    report |= {"receipt_sha256": stored.sha256, "reported_by": key.id}
    signal = InboundSignal(
        channel="in_person",
        provider="agents",
        provider_message_id=stored.sha256,
        kind="signed_receipt",
        raw=json.dumps(report, ensure_ascii=False, sort_keys=True).encode(),
        media_type="application/json",
        details={"receipt_sha256": stored.sha256, "receipt_media_type": body.media_type},
        occurred_at=datetime.combine(body.signed_on, time(12), tzinfo=BRASILIA),
    )
    open_delivery(svc.engine, communication_id=record.id, channel="in_person",
                  provider="agents", provider_message_id=stored.sha256, now=now)  # fmt: skip
    queue_signal(
        svc.engine, svc.store, signal, communication_id=record.id, channel="in_person", now=now
    )
    return OutcomeOut(communication_id=record.id, kind="signed_receipt", proof_expected=True)
