"""Suspension and termination decisions: recorded only when the case's clock allows
them, naming the evidence ids of the proving notice (R24)."""

import json
import uuid
from datetime import datetime

from sqlalchemy import Engine, update

from ccm.errors import CCMError, DataError, DataValidationError
from ccm.evidence.events import ArtifactRef, EventType
from ccm.evidence.ledger import Ledger
from ccm.persistence.tables import (
    case_decisions,
    cases,
)
from ccm.ports import ArtifactStore
from ccm.rn593.clock import Evaluation
from ccm.service.case_clock import case_notices, evaluate_case
from ccm.service.cases import (
    ACTIVE_STATES,
    CaseDecision,
    CaseState,
    case_event,
    get_case,
    local_date,
)

__all__ = [
    "CaseNotEligible",
    "decide",
]


class CaseNotEligible(CCMError):
    """A suspension or termination was asked for a case the clock does not allow."""

    def __init__(self, evaluation: Evaluation, reason: str | None = None) -> None:
        blocks = ", ".join(str(b) for b in evaluation.blocks)
        super().__init__(
            f"the case is not eligible at {evaluation.at.isoformat()}: {reason or blocks}"
        )
        self.evaluation = evaluation


def decide(
    engine: Engine,
    ledger: Ledger,
    store: ArtifactStore,
    case_id: str,
    *,
    kind: str,
    decided_by: str,
    now: datetime,
) -> tuple[CaseDecision, Evaluation]:
    """Record a suspension or termination, only when the clock allows it today, with the
    evidence ids of the proving notice (R24).

    Raises:
        LookupError: no such case.
        DataValidationError: ``kind`` is neither ``suspension`` nor ``termination``, or
            the case is closed.
        CaseNotEligible: the clock does not allow it (its blocks say why), or the proving
            evidence is not in the ledger.
    """
    if kind not in {"suspension", "termination"}:
        raise DataValidationError(
            [DataError(path="kind", message="must be suspension or termination")]
        )
    stored = get_case(engine, case_id)
    if stored is None:
        raise LookupError(case_id)
    if stored.state not in ACTIVE_STATES:
        raise DataValidationError(
            [DataError(path="case", message=f"the case is {stored.state}; nothing to decide")]
        )
    today = local_date(now)
    evaluation = evaluate_case(engine, ledger, stored, today)
    if not evaluation.eligible_for_termination:
        raise CaseNotEligible(evaluation)
    evidence = set(evaluation.proof.evidence_ids)
    recorded = {  # R24: proofs ccm recorded of notices to this payer, nothing else
        evidence_id
        for notice in case_notices(engine, ledger, stored)
        for evidence_id in notice.evidence_ids
    }
    if not evidence or not evidence <= recorded:  # R24: no decision without its proof
        raise CaseNotEligible(
            evaluation,
            "rule R24: the proving notice's evidence ("
            + (", ".join(sorted(evidence)) or "none")
            + ") is not a legal proof in ccm's ledger; record the notice through ccm first",
        )
    snapshot = json.dumps(evaluation.as_json(), sort_keys=True)
    artefact = store.put(snapshot.encode(), media_type="application/json")
    decision = CaseDecision(
        id=f"dec_{uuid.uuid4().hex[:20]}",
        kind=kind,
        decided_on=today,
        decided_by=decided_by,
        evidence_ids=tuple(sorted(evidence)),
        created_at=now,
    )
    with engine.begin() as connection:
        changed = connection.execute(
            update(cases)
            .where(cases.c.id == case_id, cases.c.state == stored.state)
            .values(
                state=CaseState.SUSPENDED if kind == "suspension" else CaseState.TERMINATED,
                open_contract=None,
                closed_at=now,
                updated_at=now,
            )
        ).rowcount
        if changed != 1:
            raise DataValidationError(
                [DataError(path="case", message="the case changed meanwhile; evaluate it again")]
            )
        connection.execute(
            case_decisions.insert().values(
                id=decision.id,
                case_id=case_id,
                kind=kind,
                decided_on=today,
                decided_by=decided_by,
                evidence_ids=json.dumps(list(decision.evidence_ids)),
                evaluation=snapshot,
                created_at=now,
            )
        )
    case_event(
        ledger,
        case_id,
        EventType.DECISION_RECORDED,
        occurred_at=now,
        actor=decided_by,
        details={"method": kind, "evidence_ids": ",".join(decision.evidence_ids)},
        artifacts=(
            ArtifactRef(
                role="rn593_evaluation", sha256=artefact.sha256, media_type="application/json"
            ),
        ),
    )
    return decision, evaluation
