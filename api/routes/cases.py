"""``/v1/cases``: RN 593 delinquency cases: import, follow, decide, prove.

``POST /v1/cases/import`` takes the operator's file as the request body: CSV
(``text/csv``), XLSX (``application/vnd.openxmlformats-officedocument.spreadsheetml.sheet``)
or JSON (``application/json``), laid out as ``ccm/rn593/import-layout.md`` says. Nothing is
stored unless the whole file is valid.
"""

from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response, status
from fastapi import Path as FastApiPath
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from api.deps import Services, require, services
from api.schemas import ErrorOut
from ccm.evidence.certificate import certificate_renderer
from ccm.evidence.events import EventType
from ccm.evidence.pack import PackParties, PackSubject, build_pack
from ccm.rn593.importing import read_cases
from ccm.rn593.ladder import load_profile
from ccm.rn593.report import compliance_summary, follow_up_workbook
from ccm.service.case_clock import (
    attempt_outcomes,
    certificate_section,
    clock_reading,
)
from ccm.service.case_decisions import CaseNotEligible, decide
from ccm.service.case_disputes import answer_dispute, sync_disputes
from ccm.service.case_report import case_rows, from_sandbox
from ccm.service.cases import (
    BRASILIA,
    StoredCase,
    case_event,
    get_case,
    import_cases,
    list_cases,
    local_date,
)
from ccm.service.keys import ApiKey, Role

__all__ = [
    "AnswerIn",
    "DecisionIn",
    "ImportOut",
    "answer",
    "case_pack",
    "compliance",
    "follow_up",
    "import_file",
    "index",
    "read",
    "router",
    "termination",
]

router = APIRouter(prefix="/v1/cases", tags=["cases (RN 593)"])

MAX_BYTES = 20 * 1024 * 1024
_FORMATS = {
    "text/csv": "cases.csv",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "cases.xlsx",
    "application/json": "cases.json",
}
_READERS = (Role.SUBMITTER, Role.LEGAL, Role.AGENT)
_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut},
    403: {"model": ErrorOut},
    404: {"model": ErrorOut},
}


class ImportOut(BaseModel):
    created: list[str]
    updated: list[str]
    restarted: list[str] = []
    """Cases whose ladder starts a new round on contact data no attempt tried yet."""
    cases: list[dict[str, Any]]


class DecisionIn(BaseModel):
    kind: Literal["suspension", "termination"]
    """What the operator decides; recorded only if the clock allows it today."""


class AnswerIn(BaseModel):
    answered_on: date = Field(description="When the operator answered the dispute (YYYY-MM-DD).")


def _summary(stored: StoredCase) -> dict[str, Any]:
    return {
        "id": stored.id,
        "contract_id": stored.contract_id,
        "state": str(stored.state),
        "round": stored.round + 1,
        "protocol": stored.protocol,
        "payer": stored.file.case.payer.name,
        "links": {
            "self": f"/v1/cases/{stored.id}",
            "evidence_pack": f"/v1/cases/{stored.id}/evidence-pack",
            "termination": f"/v1/cases/{stored.id}/termination",
        },
    }


def _case(svc: Services, case_id: str) -> StoredCase:
    """The case with every dispute its channels recorded so far, or 404."""
    if get_case(svc.engine, case_id) is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no case {case_id}")
    sync_disputes(svc.engine, svc.ledger, case_id, now=datetime.now(UTC))
    stored = get_case(svc.engine, case_id)
    assert stored is not None
    return stored


@router.post(
    "/import",
    status_code=status.HTTP_201_CREATED,
    response_model=ImportOut,
    responses={
        **_ERRORS,
        413: {"model": ErrorOut},
        415: {"model": ErrorOut},
        422: {"model": ErrorOut},
    },
    summary="Import delinquency cases (CSV, XLSX or JSON)",
)
async def import_file(
    request: Request,
    svc: Annotated[Services, Depends(services)],
    key: Annotated[ApiKey, Depends(require(Role.SUBMITTER))],
) -> ImportOut:
    """Store every case of the file (a contract with an active case has it updated) and
    start each one's escalation ladder at once."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type not in _FORMATS:
        raise HTTPException(
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
            f"send the file as one of: {', '.join(_FORMATS)}",
        )
    body = await request.body()
    if len(body) > MAX_BYTES:
        raise HTTPException(status.HTTP_413_REQUEST_ENTITY_TOO_LARGE, "at most 20 MiB")
    return await run_in_threadpool(_import, svc, body, _FORMATS[media_type], key)


def _import(svc: Services, body: bytes, filename: str, key: ApiKey) -> ImportOut:
    files = read_cases(body, filename=filename)
    profile = load_profile(svc.settings.rn593_profile)
    now = datetime.now(UTC)
    svc.ladder.check(files, profile, local_date(now))
    result = import_cases(
        svc.engine,
        svc.ledger,
        svc.store,
        files,
        profile=profile,
        imported_by=key.id,
        now=now,
        protocols=svc.protocols,
    )
    rounds = {i: get_case(svc.engine, i) for i in result.updated}
    advanced = [svc.ladder.advance(i) for i in (*result.created, *result.updated)]
    restarted = [c.id for c in advanced if (before := rounds.get(c.id)) and c.round > before.round]
    return ImportOut(
        created=list(result.created),
        updated=list(result.updated),
        restarted=restarted,
        cases=[_summary(c) for c in advanced],
    )


@router.get("", responses=_ERRORS, summary="List cases")
def index(
    svc: Annotated[Services, Depends(services)],
    _: Annotated[ApiKey, Depends(require(*_READERS))],
    state: Annotated[str | None, Query(description="Only cases in this state.")] = None,
) -> list[dict[str, Any]]:
    return [_summary(c) for c in list_cases(svc.engine, states=[state] if state else None)]


@router.get(
    "/follow-up.xlsx",
    responses={**_ERRORS, 200: {"content": {"application/vnd.ms-excel": {}}}},
    response_class=Response,
    summary="The operator's follow-up sheet and compliance summary (XLSX)",
)
def follow_up(
    svc: Annotated[Services, Depends(services)],
    _: Annotated[ApiKey, Depends(require(Role.LEGAL, Role.SUBMITTER))],
) -> Response:
    now = datetime.now(UTC)
    rows = case_rows(svc.engine, svc.ledger, at=local_date(now))
    workbook = follow_up_workbook(
        rows, generated_at=now.astimezone(BRASILIA), sandbox=from_sandbox(svc.ledger, rows)
    )
    return Response(
        workbook,
        media_type=next(k for k, v in _FORMATS.items() if v.endswith(".xlsx")),
        headers={"Content-Disposition": 'attachment; filename="acompanhamento-rn593.xlsx"'},
    )


@router.get("/compliance", responses=_ERRORS, summary="Compliance summary (JSON)")
def compliance(
    svc: Annotated[Services, Depends(services)],
    _: Annotated[ApiKey, Depends(require(Role.LEGAL, Role.SUBMITTER))],
) -> dict[str, Any]:
    """Cases by state, the share proved by day 50, median days to proof by channel."""
    rows = case_rows(svc.engine, svc.ledger, at=local_date(datetime.now(UTC)))
    return compliance_summary(rows).as_json()


@router.get("/{case_id}", responses=_ERRORS, summary="A case with its clock")
def read(
    case_id: str,
    svc: Annotated[Services, Depends(services)],
    _: Annotated[ApiKey, Depends(require(*_READERS))],
    at: Annotated[
        date | None,
        Query(
            description="Evaluate the clock at (default today).",
            ge=date(2000, 1, 1),
            le=date(2200, 1, 1),
        ),
    ] = None,
) -> dict[str, Any]:
    """The case, every attempt and dispute, the decisions, and the RN 593 clock."""
    stored = _case(svc, case_id)
    day = at or local_date(datetime.now(UTC))
    evaluation, eligible_on = clock_reading(svc.engine, svc.ledger, stored, day)
    section = certificate_section(stored, evaluation, attempt_outcomes(svc.engine, stored))
    return {
        **_summary(stored),
        "clock": evaluation.as_json(),
        "eligible_from": eligible_on.isoformat() if eligible_on else None,
        "attempts": section["attempts"],
        "disputes": [
            {
                "id": d.id,
                "opened_on": d.opened_on.isoformat(),
                "method": d.method,
                "evidence_id": d.evidence_id,
                "answered_on": d.answered_on.isoformat() if d.answered_on else None,
            }
            for d in stored.disputes
        ],
        "decisions": [
            {
                "id": d.id,
                "kind": d.kind,
                "decided_on": d.decided_on.isoformat(),
                "decided_by": d.decided_by,
                "evidence_ids": list(d.evidence_ids),
            }
            for d in stored.decisions
        ],
    }


@router.post(
    "/{case_id}/termination",
    status_code=status.HTTP_201_CREATED,
    responses={**_ERRORS, 409: {"model": ErrorOut}, 422: {"model": ErrorOut}},
    summary="Record a suspension or termination (refused unless eligible)",
)
def termination(
    case_id: str,
    body: DecisionIn,
    svc: Annotated[Services, Depends(services)],
    key: Annotated[ApiKey, Depends(require(Role.LEGAL))],
) -> Any:
    """Refused with 409 and the clock's blocks unless the case is eligible today; else the
    decision is recorded with the evidence ids of the proving notice (rule R24)."""
    _case(svc, case_id)
    try:
        decision, evaluation = decide(
            svc.engine,
            svc.ledger,
            svc.store,
            case_id,
            kind=body.kind,
            decided_by=f"api_key:{key.id}",
            now=datetime.now(UTC),
        )
    except CaseNotEligible as refused:
        return JSONResponse(
            {
                "detail": str(refused),
                "blocks": [str(b) for b in refused.evaluation.blocks],
                "clock": refused.evaluation.as_json(),
            },
            status_code=status.HTTP_409_CONFLICT,
        )
    return {
        "id": decision.id,
        "kind": decision.kind,
        "decided_on": decision.decided_on.isoformat(),
        "evidence_ids": list(decision.evidence_ids),
        "clock": evaluation.as_json(),
    }


@router.post(
    "/{case_id}/disputes/{dispute_id}/answer",
    responses={**_ERRORS, 422: {"model": ErrorOut}},
    summary="Record the operator's answer to a dispute (the payment window restarts)",
)
def answer(
    case_id: str,
    dispute_id: Annotated[int, FastApiPath(ge=1, le=2**31 - 1)],
    body: AnswerIn,
    svc: Annotated[Services, Depends(services)],
    key: Annotated[ApiKey, Depends(require(Role.LEGAL, Role.AGENT))],
) -> dict[str, Any]:
    """Recorded on the case's evidence (the pack's payment deadline rests on it)."""
    _case(svc, case_id)
    dispute = answer_dispute(
        svc.engine,
        svc.ledger,
        case_id,
        dispute_id,
        answered_on=body.answered_on,
        answered_by=f"api_key:{key.id}",
    )
    return {
        "id": dispute.id,
        "opened_on": dispute.opened_on.isoformat(),
        "answered_on": body.answered_on.isoformat(),
    }


@router.get(
    "/{case_id}/evidence-pack",
    responses={**_ERRORS, 200: {"content": {"application/zip": {}}}},
    response_class=Response,
    summary="The case's evidence pack with its Certificado de Notificação RN 593",
)
def case_pack(
    case_id: str,
    svc: Annotated[Services, Depends(services)],
    key: Annotated[ApiKey, Depends(require(Role.LEGAL))],
) -> Response:
    """Every event of the case and its communications, sealed, with the RN 593 verdict
    and the clock's dates at today in the certificate; verifiable offline."""
    stored = _case(svc, case_id)
    now = datetime.now(UTC)
    today = local_date(now)
    evaluation, eligible_on = clock_reading(svc.engine, svc.ledger, stored, today)
    outcomes = attempt_outcomes(svc.engine, stored)
    payer = stored.file.case.payer
    address = stored.file.contacts.address
    pack = build_pack(
        ledger=svc.ledger,
        store=svc.store,
        sealer=svc.sealer,
        subject=PackSubject(kind="case", id=stored.id),
        parties=PackParties(
            operator=stored.profile.operator,
            addressee={
                "name": payer.name,
                "cpf": payer.cpf,
                "address": address.value.model_dump(exclude_none=True) if address else None,
            },
            communications=[
                {"id": stored.id, "title": f"Caso RN 593 · contrato {stored.contract_id}"},
                *(
                    {"id": a.communication_id, "title": stored.profile.template}
                    for a in stored.attempts
                    if a.communication_id
                ),
            ],
        ),
        render_certificate=certificate_renderer(svc.composer),
        created_at=now,
        certificate_extra={"rn593": certificate_section(stored, evaluation, outcomes, eligible_on)},
    )
    case_event(  # only once it could be built
        svc.ledger,
        stored.id,
        EventType.EVIDENCE_RETRIEVED,
        occurred_at=datetime.now(UTC),
        actor=f"api_key:{key.id}",
        details={"method": "evidence_pack"},
    )
    return Response(
        pack,
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="evidence-{stored.id}.zip"'},
    )
