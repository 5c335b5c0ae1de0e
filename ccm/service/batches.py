"""Batches: many requests in one upload, each row accepted or rejected on its own.

Every row is submitted like a single request, with the idempotency key
``batch:<batch>:<row>`` (or the row's own ``idempotency_key``), so uploading the same
file again under the same batch never doubles a notice. Rejected rows keep their errors
(JSON path and rule); nothing is hidden. ``retry_failed`` sends again only the rows whose
communication failed.
"""

import json
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select, update

from ccm.errors import CCMError, DataError, DataValidationError
from ccm.persistence.tables import batch_rows, batches, communications, deliveries, jobs
from ccm.service.communications import (
    IdempotencyConflict,
    Status,
    SubmitRequest,
    submit,
    utc,
)
from ccm.service.templates import TemplateCatalog

__all__ = ["batch_rows_page", "BatchRow", "BatchView", "get_batch", "retry_failed", "submit_batch"]


@dataclass(frozen=True, slots=True, kw_only=True)
class BatchRow:
    """One row as parsed: a request, or the reasons it cannot be one."""

    row: int
    request: SubmitRequest | None = None
    idempotency_key: str | None = None
    fingerprint: str | None = None
    """Of the row as uploaded, before completion from stored profiles."""
    errors: Sequence[DataError] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class BatchView:
    """A batch and its progress."""

    id: str
    format: str
    total: int
    accepted: int
    rejected: int
    created_at: datetime
    statuses: dict[str, int]
    """Accepted rows by their communication's current status."""
    rejections: list[dict[str, Any]]
    """``{"row", "errors": [{"path", "rule"}]}`` for every rejected row."""
    done: bool
    """True when every accepted row is proven, failed or cancelled."""


def submit_batch(
    engine: Engine,
    catalog: TemplateCatalog,
    rows: Sequence[BatchRow],
    *,
    submitted_by: str,
    format: str,
    now: datetime,
) -> str:
    """Record the batch and submit each row; return the batch id."""
    batch_id = f"bat_{uuid.uuid4().hex[:20]}"
    with engine.begin() as connection:
        connection.execute(
            batches.insert().values(
                id=batch_id,
                submitted_by=submitted_by,
                format=format,
                total=len(rows),
                accepted=0,
                rejected=0,
                created_at=now,
            )
        )
    accepted = rejected = 0
    for item in rows:
        communication_id, errors = None, list(item.errors)
        if item.request is not None and not errors:
            try:
                record, _ = submit(
                    engine,
                    catalog,
                    item.request,
                    submitted_by=submitted_by,
                    idempotency_key=item.idempotency_key or f"batch:{batch_id}:{item.row}",
                    now=now,
                    fingerprint=item.fingerprint,
                )
                communication_id = record.id
            except DataValidationError as error:
                errors = list(error.errors)
            except IdempotencyConflict as error:
                errors = [DataError(path="idempotency_key", message=str(error))]
            except CCMError as error:
                errors = [DataError(path="template", message=str(error))]
        accepted += communication_id is not None
        rejected += communication_id is None
        with engine.begin() as connection:
            connection.execute(
                batch_rows.insert().values(
                    batch_id=batch_id,
                    row=item.row,
                    communication_id=communication_id,
                    errors=json.dumps([{"path": e.path, "rule": e.message} for e in errors])
                    if communication_id is None
                    else None,
                )
            )
    with engine.begin() as connection:
        connection.execute(
            update(batches)
            .where(batches.c.id == batch_id)
            .values(accepted=accepted, rejected=rejected)
        )
    return batch_id


def get_batch(engine: Engine, batch_id: str, *, submitted_by: str | None) -> BatchView | None:
    """The batch (only its submitter's, unless ``submitted_by`` is None), or ``None``."""
    with engine.connect() as connection:
        batch = connection.execute(select(batches).where(batches.c.id == batch_id)).first()
        if batch is None or (submitted_by is not None and batch.submitted_by != submitted_by):
            return None
        rows = connection.execute(
            select(batch_rows.c.row, batch_rows.c.errors, communications.c.status)
            .select_from(
                batch_rows.outerjoin(
                    communications, communications.c.id == batch_rows.c.communication_id
                )
            )
            .where(batch_rows.c.batch_id == batch_id)
            .order_by(batch_rows.c.row)
        ).all()
    statuses = Counter(r.status for r in rows if r.status is not None)
    final = {Status.PROVEN, Status.FAILED, Status.CANCELLED}
    return BatchView(
        id=batch.id,
        format=batch.format,
        total=batch.total,
        accepted=batch.accepted,
        rejected=batch.rejected,
        created_at=utc(batch.created_at),
        statuses=dict(statuses),
        rejections=[
            {"row": r.row, "errors": json.loads(r.errors)} for r in rows if r.errors is not None
        ],
        done=len(rows) == batch.total and all(Status(s) in final for s in statuses),
    )


def batch_rows_page(
    engine: Engine, batch_id: str, *, offset: int, limit: int
) -> list[dict[str, Any]]:
    """Rows ``offset``.. of a batch, in file order: ``{"row", "communication_id",
    "status", "errors"}`` (the communication's current status, or the row's errors)."""
    with engine.connect() as connection:
        rows = connection.execute(
            select(
                batch_rows.c.row,
                batch_rows.c.communication_id,
                batch_rows.c.errors,
                communications.c.status,
            )
            .select_from(
                batch_rows.outerjoin(
                    communications, communications.c.id == batch_rows.c.communication_id
                )
            )
            .where(batch_rows.c.batch_id == batch_id)
            .order_by(batch_rows.c.row)
            .offset(offset)
            .limit(limit)
        ).all()
    return [
        {
            "row": r.row,
            "communication_id": r.communication_id,
            "status": r.status,
            "errors": json.loads(r.errors) if r.errors is not None else [],
        }
        for r in rows
    ]


def retry_failed(engine: Engine, batch_id: str, *, now: datetime) -> int:
    """Queue again the failed sends of the batch's failed communications; return how many
    communications were retried (rows that succeeded are never touched)."""
    with engine.begin() as connection:
        failed = [
            r.id
            for r in connection.execute(
                select(communications.c.id)
                .select_from(
                    batch_rows.join(
                        communications, communications.c.id == batch_rows.c.communication_id
                    )
                )
                .where(batch_rows.c.batch_id == batch_id, communications.c.status == Status.FAILED)
            )
        ]
        if not failed:
            return 0
        connection.execute(
            update(jobs)
            .where(jobs.c.communication_id.in_(failed), jobs.c.state == "failed")
            .values(state="pending", attempts=0, run_after=now, lease_until=None)
        )
        connection.execute(
            update(deliveries)
            .where(deliveries.c.communication_id.in_(failed), deliveries.c.state == "failed")
            .values(state="claimed", updated_at=now)
        )
        connection.execute(
            update(communications)
            .where(communications.c.id.in_(failed))
            .values(status=Status.PROCESSING, updated_at=now)
        )
    return len(failed)
