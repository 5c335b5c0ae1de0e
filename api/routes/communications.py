"""``/v1/communications``: submit, follow, and retrieve the document and the evidence."""

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, HTTPException, Request, Response, status

from api.deps import Services, require, services
from api.schemas import CommunicationIn, CommunicationOut, ErrorOut, EventOut
from ccm.errors import DataError, DataValidationError
from ccm.evidence.certificate import certificate_renderer
from ccm.evidence.events import Channel, EventType, EvidenceEvent
from ccm.evidence.pack import PackParties, PackSubject, build_pack
from ccm.identifiers import InvalidIdentifier, normalize_cpf, validate_cpf
from ccm.service.communications import (
    CommunicationRecord,
    SubmitRequest,
    get_communication,
    submit,
)
from ccm.service.keys import ApiKey, Role
from ccm.service.recipients import apply_preferences, get_recipient

__all__ = ["create", "document", "events", "evidence_pack", "prepare_request", "read", "router"]

router = APIRouter(prefix="/v1/communications", tags=["communications"])

_READERS = (Role.SUBMITTER, Role.LEGAL, Role.AGENT)
_EVIDENCE = (Role.LEGAL, Role.SUBMITTER)
_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut},
    403: {"model": ErrorOut},
    404: {"model": ErrorOut},
}


def _valid_cpf(value: object) -> bool:
    """An invalid payer CPF is the template validation's to report, with its path."""
    try:
        validate_cpf(str(value))
    except InvalidIdentifier:
        return False
    return isinstance(value, str)


def prepare_request(svc: Services, body: CommunicationIn, key: ApiKey) -> tuple[SubmitRequest, str]:
    """The request to submit, completed from the caller's stored recipient profile, and
    the fingerprint of the request as sent (idempotency must not depend on the profile).

    Raises:
        DataValidationError: rule R12, a CPF differing from the profile, an opted-out
            channel without a legal basis.
        TemplateNotFound: unknown template.
    """
    errors = []
    if body.template == "delinquency_notice":
        if body.recipient.role != "payer":
            errors.append(
                DataError(
                    path="recipient.role",
                    message="a delinquency notice goes to the payer, never a dependent (rule R12)",
                )
            )
        payer = body.data.get("payer")
        payer_cpf = payer.get("cpf") if isinstance(payer, dict) else None
        if _valid_cpf(payer_cpf) and normalize_cpf(str(payer_cpf)) != normalize_cpf(
            body.recipient.cpf
        ):
            errors.append(
                DataError(
                    path="recipient.cpf",
                    message="must be the payer's CPF (data.payer.cpf): a delinquency notice "
                    "goes to the payer, never a dependent (rule R12)",
                )
            )
    if errors:
        raise DataValidationError(errors)
    sent = body.recipient.model_dump(mode="json", exclude_none=True)
    as_sent = SubmitRequest(
        template=body.template,
        locale=body.locale,
        data=body.data,
        recipient={**sent, **({"legal_basis": body.legal_basis} if body.legal_basis else {})},
        channels=body.channels,
        case_id=body.case_id,
    )
    current = svc.catalog.current(body.template).library.manifest(body.template)
    mandatory = str(current.kind) == "notice"
    recipient, channels = apply_preferences(
        get_recipient(svc.engine, body.recipient.id, owner=key.id),
        sent,
        body.channels,
        mandatory=mandatory,
        legal_basis=body.legal_basis,
    )
    completed = SubmitRequest(
        template=body.template,
        locale=body.locale,
        data=body.data,
        recipient=recipient,
        channels=channels,
        case_id=body.case_id,
    )
    return completed, as_sent.fingerprint()


def _links(communication_id: str) -> dict[str, str]:
    base = f"/v1/communications/{communication_id}"
    return {
        "self": base,
        "events": f"{base}/events",
        "document": f"{base}/document",
        "evidence_pack": f"{base}/evidence-pack",
    }


def _view(record: CommunicationRecord, svc: Services) -> CommunicationOut:
    proof = None
    for event in svc.ledger.records(communication_id=record.id):
        verdict = event.body["legal_proof"]
        if verdict["proof"]:
            proof = {
                "channel": event.body["channel"],
                "date": event.body["occurred_at"],
                "rule": verdict["rule"],
                "evidence_ids": [event.id],
            }
            break
    return CommunicationOut.model_validate(
        {
            "id": record.id,
            "status": str(record.status),
            "template": record.template,
            "template_version": record.template_version,
            "locale": record.locale,
            "case_id": record.case_id,
            "channels": list(record.channels),
            "created_at": record.created_at,
            "updated_at": record.updated_at,
            "attempts": list(record.deliveries),
            "proof": proof,
            "links": _links(record.id),
        }
    )


def _visible(
    svc: Services, communication_id: str, key: ApiKey, *, evidence: bool
) -> CommunicationRecord:
    """The communication if ``key`` may see it: submitters only their own."""
    record = get_communication(svc.engine, communication_id)
    if record is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no communication {communication_id}")
    own = record.submitted_by == key.id
    privileged = key.has(Role.LEGAL) if evidence else key.has(Role.LEGAL, Role.AGENT)
    if not (own or privileged):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            "evidence is for legal and admin keys, and for the system that submitted it"
            if evidence
            else "this key may only see communications it submitted",
        )
    return record


def _record_retrieval(svc: Services, record: CommunicationRecord, key: ApiKey, what: str) -> None:
    svc.ledger.append(
        EvidenceEvent(
            type=EventType.EVIDENCE_RETRIEVED,
            channel=Channel.SYSTEM,
            communication_id=record.id,
            case_id=record.case_id,
            occurred_at=datetime.now(UTC),
            actor=f"api_key:{key.id}",
            details={"method": what},
        )
    )


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=CommunicationOut,
    responses={**_ERRORS, 409: {"model": ErrorOut}, 422: {"model": ErrorOut}},
    summary="Submit a communication",
)
def create(
    body: CommunicationIn,
    response: Response,
    svc: Annotated[Services, Depends(services)],
    key: Annotated[ApiKey, Depends(require(Role.SUBMITTER))],
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> CommunicationOut:
    """Validate against the template and queue it; the same ``Idempotency-Key`` with the
    same body returns the same communication, with another body 409."""
    request, fingerprint = prepare_request(svc, body, key)
    record, created = submit(
        svc.engine,
        svc.catalog,
        request,
        fingerprint=fingerprint,
        submitted_by=key.id,
        idempotency_key=idempotency_key,
        now=datetime.now(UTC),
    )
    response.headers["Location"] = f"/v1/communications/{record.id}"
    if not created:
        response.status_code = status.HTTP_200_OK
    return _view(record, svc)


@router.get("/{communication_id}", response_model=CommunicationOut, responses=_ERRORS)
def read(
    communication_id: str,
    svc: Annotated[Services, Depends(services)],
    key: Annotated[ApiKey, Depends(require(*_READERS))],
) -> CommunicationOut:
    """Status, attempts per channel and the legal proof once recorded."""
    return _view(_visible(svc, communication_id, key, evidence=False), svc)


@router.get("/{communication_id}/events", response_model=list[EventOut], responses=_ERRORS)
def events(
    communication_id: str,
    svc: Annotated[Services, Depends(services)],
    key: Annotated[ApiKey, Depends(require(*_EVIDENCE))],
) -> list[dict[str, Any]]:
    """The evidence timeline (each retrieval is itself recorded)."""
    record = _visible(svc, communication_id, key, evidence=True)
    _record_retrieval(svc, record, key, "events")
    return [r.as_json() for r in svc.ledger.records(communication_id=record.id)]


@router.get(
    "/{communication_id}/document",
    responses={**_ERRORS, 200: {"content": {"application/pdf": {}}}},
    response_class=Response,
)
def document(
    communication_id: str,
    svc: Annotated[Services, Depends(services)],
    key: Annotated[ApiKey, Depends(require(*_EVIDENCE))],
) -> Response:
    """The signed PDF, exactly as archived."""
    record = _visible(svc, communication_id, key, evidence=True)
    signed = [
        r.body["artifacts"][0]["sha256"]
        for r in svc.ledger.records(communication_id=record.id)
        if r.body["type"] == EventType.DOCUMENT_SIGNED
    ]
    if not signed:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "the document is not signed yet")
    _record_retrieval(svc, record, key, "document")
    return Response(
        svc.store.get(signed[0]),
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{record.document_id}.pdf"'},
    )


@router.get(
    "/{communication_id}/evidence-pack",
    responses={**_ERRORS, 200: {"content": {"application/zip": {}}}},
    response_class=Response,
)
def evidence_pack(
    communication_id: str,
    request: Request,
    svc: Annotated[Services, Depends(services)],
    key: Annotated[ApiKey, Depends(require(*_EVIDENCE))],
) -> Response:
    """The evidence pack (ZIP), verifiable offline with ``ccm evidence verify``."""
    record = _visible(svc, communication_id, key, evidence=True)
    operator = record.data.get("operator") or record.data.get("insurer") or {}
    pack = build_pack(
        ledger=svc.ledger,
        store=svc.store,
        sealer=svc.sealer,
        subject=PackSubject(kind="communication", id=record.id),
        parties=PackParties(
            operator=operator,
            addressee={
                "name": record.recipient["name"],
                "cpf": record.recipient["cpf"],
                "address": record.recipient.get("address")
                or record.data.get("payer", {}).get("address"),
            },
            communications=[
                {
                    "id": record.id,
                    "title": record.template,
                    "document_id": record.document_id or "",
                }
            ],
        ),
        render_certificate=certificate_renderer(svc.composer),
        created_at=datetime.now(UTC),
    )
    _record_retrieval(svc, record, key, "evidence_pack")  # only once it could be built
    return Response(
        pack,
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="evidence-{record.id}.zip"'},
    )
