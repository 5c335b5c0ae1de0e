"""``/v1/batches``: upload many requests (JSONL or CSV), follow them, retry the failed ones.

CSV columns: ``template, locale, recipient_id, recipient_name, recipient_cpf,
recipient_role, recipient_email, recipient_phone, recipient_address`` (JSON),
``channels`` (``email|sms``), ``case_id, idempotency_key, data`` (JSON). A JSONL line is
the body of ``POST /v1/communications`` plus an optional ``idempotency_key``. Rows are
numbered from 1 (the first data line).
"""

import csv
import io
import json
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request, status
from pydantic import BaseModel, Field, ValidationError
from starlette.concurrency import run_in_threadpool

from api.deps import Services, require, services
from api.routes.communications import prepare_request
from api.schemas import CommunicationIn, ErrorOut
from ccm.errors import DataError, DataValidationError, TemplateNotFound
from ccm.service.batches import (
    BatchRow,
    batch_rows_page,
    get_batch,
    retry_failed,
    submit_batch,
)
from ccm.service.keys import ApiKey, Role

__all__ = [
    "BatchAccepted",
    "BatchOut",
    "BatchRowOut",
    "BatchRowsOut",
    "create",
    "read",
    "retry",
    "router",
    "rows",
]

router = APIRouter(prefix="/v1/batches", tags=["batches"])

MAX_BYTES = 50 * 1024 * 1024
MAX_ROWS = 10_000
_FORMATS = {
    "application/x-ndjson": "jsonl",
    "application/jsonl": "jsonl",
    "application/json-lines": "jsonl",
    "text/csv": "csv",
}


class BatchAccepted(BaseModel):
    id: str
    total: int
    accepted: int
    rejected: int
    links: dict[str, str]


class BatchOut(BaseModel):
    id: str
    format: str
    total: int
    accepted: int
    rejected: int
    created_at: datetime
    statuses: dict[str, int]
    rejections: list[dict[str, Any]]
    done: bool


def _row(number: int, value: Any, svc: Services, api_key: ApiKey, upload: str | None) -> BatchRow:
    """One row checked exactly as a single ``POST /v1/communications`` would be."""
    if not isinstance(value, dict):
        return BatchRow(row=number, errors=[DataError(path="", message="must be a JSON object")])
    key = value.pop("idempotency_key", None)
    if key is not None and (not isinstance(key, str) or not 1 <= len(key) <= 150):
        return BatchRow(
            row=number,
            errors=[DataError(path="idempotency_key", message="must be 1 to 150 characters")],
        )
    try:
        body = CommunicationIn.model_validate(value)
        request, fingerprint = prepare_request(svc, body, api_key)
    except ValidationError as error:
        return BatchRow(
            row=number,
            errors=[
                DataError(path=".".join(str(p) for p in e["loc"]), message=str(e["msg"]))
                for e in error.errors()
            ],
        )
    except DataValidationError as error:
        return BatchRow(row=number, errors=list(error.errors))
    except TemplateNotFound as error:
        return BatchRow(row=number, errors=[DataError(path="template", message=str(error))])
    # An upload retried under the same Idempotency-Key gives every row the same key.
    default = f"upload:{upload}:{number}" if upload else None
    return BatchRow(
        row=number, idempotency_key=key or default, request=request, fingerprint=fingerprint
    )


def _jsonl(text: str, *context: Any) -> list[BatchRow]:
    rows = []
    for number, line in enumerate((ln for ln in text.splitlines() if ln.strip()), start=1):
        try:
            rows.append(_row(number, json.loads(line), *context))
        except (ValueError, RecursionError) as error:
            rows.append(
                BatchRow(row=number, errors=[DataError(path="", message=f"not JSON: {error}")])
            )
    return rows


def _csv(text: str, *context: Any) -> list[BatchRow]:
    rows: list[BatchRow] = []
    try:
        records = list(csv.DictReader(io.StringIO(text)))
    except csv.Error as error:
        return [
            BatchRow(row=len(rows) + 1, errors=[DataError(path="", message=f"not CSV: {error}")])
        ]
    for number, record in enumerate(records, start=1):
        try:
            value: dict[str, Any] = {
                "template": record.get("template") or "",
                "locale": record.get("locale") or None,
                "data": json.loads(record.get("data") or "{}"),
                "recipient": {
                    k.removeprefix("recipient_"): v
                    for k, v in record.items()
                    if k and k.startswith("recipient_") and v and k != "recipient_address"
                },
                "case_id": record.get("case_id") or None,
                "idempotency_key": record.get("idempotency_key") or None,
            }
            if record.get("recipient_address"):
                value["recipient"]["address"] = json.loads(record["recipient_address"])
            if record.get("channels"):
                value["channels"] = record["channels"].split("|")
        except (ValueError, RecursionError) as error:
            rows.append(
                BatchRow(row=number, errors=[DataError(path="data", message=f"not JSON: {error}")])
            )
            continue
        rows.append(_row(number, value, *context))
    return rows


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=BatchAccepted,
    responses={
        401: {"model": ErrorOut},
        403: {"model": ErrorOut},
        413: {"model": ErrorOut},
        415: {"model": ErrorOut},
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/x-ndjson": {"schema": {"type": "string"}},
                "text/csv": {"schema": {"type": "string"}},
            },
        }
    },
)
async def create(
    request: Request,
    svc: Annotated[Services, Depends(services)],
    key: Annotated[ApiKey, Depends(require(Role.SUBMITTER))],
    idempotency_key: Annotated[str | None, Header(max_length=100)] = None,
) -> BatchAccepted:
    """Submit every row; partial failures are reported per row, never hidden."""
    kind = _FORMATS.get(request.headers.get("content-type", "").split(";")[0].strip().lower())
    if kind is None:
        raise HTTPException(
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
            "Content-Type must be application/x-ndjson (JSON lines) or text/csv",
        )
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BYTES:
            raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, "a batch is at most 50 MB")
        chunks.append(chunk)
    body = b"".join(chunks)
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST, f"the file is not UTF-8: {error}"
        ) from error
    if "\x00" in text:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "the file holds NUL characters")
    parse = _jsonl if kind == "jsonl" else _csv
    rows = await run_in_threadpool(parse, text, svc, key, idempotency_key)
    if not rows or len(rows) > MAX_ROWS:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            f"a batch has 1 to {MAX_ROWS} rows, not {len(rows)}",
        )
    batch_id = await run_in_threadpool(
        submit_batch,
        svc.engine,
        svc.catalog,
        rows,
        submitted_by=key.id,
        format=kind,
        now=datetime.now(UTC),
    )
    view = get_batch(svc.engine, batch_id, submitted_by=None)
    assert view is not None
    return BatchAccepted(
        id=batch_id,
        total=view.total,
        accepted=view.accepted,
        rejected=view.rejected,
        links={
            "self": f"/v1/batches/{batch_id}",
            "rows": f"/v1/batches/{batch_id}/rows",
            "retry_failed": f"/v1/batches/{batch_id}/retry-failed",
        },
    )


def _own(svc: Services, batch_id: str, key: ApiKey) -> BatchOut:
    view = get_batch(svc.engine, batch_id, submitted_by=None if key.has(Role.LEGAL) else key.id)
    if view is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no batch {batch_id}")
    return BatchOut.model_validate(view, from_attributes=True)


@router.get("/{batch_id}", response_model=BatchOut, responses={404: {"model": ErrorOut}})
def read(
    batch_id: str,
    svc: Annotated[Services, Depends(services)],
    key: Annotated[ApiKey, Depends(require(Role.SUBMITTER, Role.LEGAL))],
) -> BatchOut:
    """Progress by status, and every rejected row with its errors."""
    return _own(svc, batch_id, key)


class BatchRowOut(BaseModel):
    row: int = Field(description="1 is the first request of the file (after a CSV header).")
    communication_id: str | None
    status: str | None = Field(description="The communication's current status.")
    errors: list[dict[str, str]] = Field(description="Why the row was rejected.")


class BatchRowsOut(BaseModel):
    rows: list[BatchRowOut]
    next_offset: int | None = Field(description="Where the next page starts; null at the end.")


@router.get("/{batch_id}/rows", response_model=BatchRowsOut, responses={404: {"model": ErrorOut}})
def rows(
    batch_id: str,
    svc: Annotated[Services, Depends(services)],
    key: Annotated[ApiKey, Depends(require(Role.SUBMITTER, Role.LEGAL))],
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 500,
) -> BatchRowsOut:
    """Each row in file order: the communication it became and its status, or its errors."""
    _own(svc, batch_id, key)
    page = batch_rows_page(svc.engine, batch_id, offset=offset, limit=limit)
    following = offset + len(page) if len(page) == limit else None
    return BatchRowsOut.model_validate({"rows": page, "next_offset": following})


@router.post("/{batch_id}/retry-failed", responses={404: {"model": ErrorOut}})
def retry(
    batch_id: str,
    svc: Annotated[Services, Depends(services)],
    key: Annotated[ApiKey, Depends(require(Role.SUBMITTER))],
) -> dict[str, int]:
    """Send again the rows whose communication failed; nothing else is touched."""
    _own(svc, batch_id, key)
    return {"retried": retry_failed(svc.engine, batch_id, now=datetime.now(UTC))}
