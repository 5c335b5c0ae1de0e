"""The stored cases as the follow-up sheet and the compliance summary read them."""

from datetime import date

from sqlalchemy import Engine

from ccm.evidence.ledger import Ledger
from ccm.rn593.report import Attempt, CaseRow
from ccm.service.case_clock import attempt_outcomes, evaluate_case
from ccm.service.cases import CaseState, StoredCase, list_cases, local_date

__all__ = ["case_rows", "from_sandbox"]

_DECIDED = {CaseState.SUSPENDED, CaseState.TERMINATED}
_BLOCKS = {
    "paid": "débito quitado",
    "not_covered": "contrato não abrangido pela RN 593",
    "hospitalized": "titular internado",
    "dispute_open": "contestação em aberto",
    "agreement_active": "acordo de pagamento vigente",
    "fewer_than_two_unpaid": "menos de duas mensalidades em aberto em 12 meses",
    "not_over_60_days": "ainda sem 60 dias de inadimplência",
    "payment_window_open": "prazo para pagamento em curso",
}
"""The clock's blocks in the operator's words (the sheet is read in pt-BR)."""


def _attendant(ledger: Ledger, communication_id: str) -> str | None:
    """The agent who reported on an agent call, from its events."""
    for record in ledger.records(communication_id=communication_id):
        actor = str(record.body["actor"])
        if actor.startswith("agent:") and actor != "agent:unknown":
            return actor.removeprefix("agent:")
    return None


def _row(engine: Engine, ledger: Ledger, stored: StoredCase, at: date) -> CaseRow:
    evaluation = evaluate_case(engine, ledger, stored, at)
    outcomes = attempt_outcomes(engine, stored)
    attempts = tuple(
        Attempt(
            on=local_date(a.created_at),
            channel=a.channel,
            outcome=outcome,
            round=a.round + 1,
            attendant=_attendant(ledger, a.communication_id)
            if a.channel == "agent_call" and a.communication_id
            else None,
        )
        for a, outcome in zip(stored.attempts, outcomes, strict=True)
    )
    notes = [_BLOCKS.get(b, b) for b in evaluation.blocks if b != "not_notified"]
    for a in stored.attempts:
        if a.note:
            round_ = f"rodada {a.round + 1}, " if a.round else ""
            notes.append(f"{round_}etapa {a.step + 1} {a.channel}: {a.note}")
    notes += [
        f"{'suspensão' if d.kind == 'suspension' else 'rescisão'} em {d.decided_on:%d/%m/%Y}"
        for d in stored.decisions
    ]
    payer = stored.file.case.payer
    return CaseRow(
        case_id=stored.id,
        protocol=stored.protocol,
        ticket=stored.file.ticket,
        name=payer.name,
        cpf=payer.cpf,
        state=str(stored.state),
        oldest_due_date=evaluation.oldest_unpaid_due_date,
        notify_by=evaluation.notify_by,
        # The first round's start: a new round restarts the ladder's clock, not the case's.
        started_on=local_date(min(a.created_at for a in stored.attempts))
        if stored.attempts
        else None,
        proved_on=evaluation.proof.on,
        proof_channel=evaluation.proof.channel,
        attempts=attempts,
        cancelled=stored.state in _DECIDED,
        observations="; ".join(notes),
    )


def case_rows(engine: Engine, ledger: Ledger, *, at: date) -> list[CaseRow]:
    """Every case, oldest first, with its clock evaluated at ``at``."""
    return [_row(engine, ledger, stored, at) for stored in list_cases(engine)]


def from_sandbox(ledger: Ledger, rows: list[CaseRow]) -> bool:
    """Whether any of the cases' events came from a sandbox channel (the sheet says so)."""
    return any(
        r.body["details"].get("sandbox") == "true"
        for row in rows
        for r in ledger.records(case_id=row.case_id)
    )
