"""Disputes on a case: opened from any channel's dispute event (the confirmation page,
an SMS or WhatsApp "QUESTIONAR", IVR option 2, an agent's report), answered by the
operator (the payment window restarts from the answer, R9)."""

from datetime import UTC, date, datetime

from sqlalchemy import Engine, select, update

from ccm.errors import DataError, DataValidationError, StateConflict
from ccm.evidence.events import EventType
from ccm.evidence.ledger import Ledger
from ccm.persistence.db import upsert_insert
from ccm.persistence.tables import case_disputes
from ccm.service.cases import CaseDispute, case_event, local_date

__all__ = [
    "answer_dispute",
    "sync_disputes",
]


def sync_disputes(engine: Engine, ledger: Ledger, case_id: str, *, now: datetime) -> int:
    """Open a dispute on the case for each dispute event of its communications not seen
    yet; return how many were opened."""
    disputes = [
        r
        for r in ledger.records(case_id=case_id)
        if r.body["type"] == EventType.RECIPIENT_REJECTED and "keyword" in r.body["details"]
    ]
    if not disputes:
        return 0
    opened = 0
    with engine.begin() as connection:
        known = {
            r.evidence_id
            for r in connection.execute(
                select(case_disputes.c.evidence_id).where(case_disputes.c.case_id == case_id)
            )
        }
        for record in disputes:
            if record.id in known:
                continue
            connection.execute(
                upsert_insert(engine)(case_disputes)
                .values(
                    case_id=case_id,
                    opened_on=local_date(record.body["occurred_at"]),
                    method=str(record.body["details"].get("method") or record.body["channel"]),
                    evidence_id=record.id,
                    created_at=now,
                )
                .on_conflict_do_nothing(index_elements=["evidence_id"])  # another worker's
            )
            opened += 1
    return opened


def answer_dispute(
    engine: Engine,
    ledger: Ledger,
    case_id: str,
    dispute_id: int,
    *,
    answered_on: date,
    answered_by: str,
) -> CaseDispute:
    """Record the operator's answer to a dispute: the payment window restarts from it (R9).

    Raises:
        DataValidationError: no such open dispute, or an answer before it was opened.
    """
    with engine.begin() as connection:
        row = connection.execute(
            select(case_disputes).where(
                case_disputes.c.case_id == case_id, case_disputes.c.id == dispute_id
            )
        ).first()
        if row is None:
            raise DataValidationError(
                [DataError(path="dispute_id", message=f"no dispute {dispute_id} on case {case_id}")]
            )
        if row.answered_on is not None:
            raise StateConflict(
                f"dispute {dispute_id} was answered on {row.answered_on.isoformat()}"
            )
        if answered_on > local_date(datetime.now(UTC)):
            raise DataValidationError(
                [DataError(path="answered_on", message="must not be in the future")]
            )
        if answered_on < row.opened_on:
            raise DataValidationError(
                [
                    DataError(
                        path="answered_on",
                        message=f"before the dispute was opened ({row.opened_on.isoformat()})",
                    )
                ]
            )
        answered = connection.execute(
            update(case_disputes)
            .where(case_disputes.c.id == dispute_id, case_disputes.c.answered_on.is_(None))
            .values(answered_on=answered_on)
        ).rowcount
        if not answered:  # answered meanwhile by someone else
            raise StateConflict(f"dispute {dispute_id} was answered meanwhile")
    case_event(
        ledger,
        case_id,
        EventType.DISPUTE_ANSWERED,
        occurred_at=datetime.now(UTC),
        actor=answered_by,
        details={
            "method": "dispute_answer",
            "evidence_ids": row.evidence_id or "",
            "answered_on": answered_on.isoformat(),
        },
    )
    return CaseDispute(
        id=row.id,
        opened_on=row.opened_on,
        method=row.method,
        evidence_id=row.evidence_id,
        answered_on=answered_on,
    )
