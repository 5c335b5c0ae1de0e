"""The RN 593 clock of a stored case: its notices and proofs read from the case's
communications and the evidence ledger, the disputes opened on its channels, and the
section of the case's certificate that states the verdict and every attempt."""

import json
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Engine, select

from ccm.evidence.events import EventType
from ccm.evidence.ledger import Ledger
from ccm.evidence.records import EvidenceRecord
from ccm.persistence.tables import communications
from ccm.rn593.case import Case, Dispute, Notice, NoticeChannel, Proof, ProofKind
from ccm.rn593.clock import Evaluation, evaluate, first_eligible
from ccm.service.case_disputes import sync_disputes
from ccm.service.cases import StoredCase, get_case, local_date

__all__ = [
    "attempt_outcomes",
    "case_notices",
    "certificate_section",
    "clock_case",
    "clock_reading",
    "evaluate_case",
]

_PROOF_KINDS = {
    "email_signed_delivered": ProofKind.SIGNATURE,
    "email_read_confirmation": ProofKind.READ_CONFIRMATION,
    "email_page_confirmation": ProofKind.READ_CONFIRMATION,
    "message_reply": ProofKind.REPLY,
    "call_data_confirmed": ProofKind.DATA_CONFIRMATION,
    "letter_ar_delivered": ProofKind.AR_DELIVERED,
    "in_person_signed_receipt": ProofKind.SIGNED_RECEIPT,
}
"""The ledger's proof verdicts (``ccm.evidence.proof``) as the clock's proof kinds."""


def _digits(cpf: str) -> str:
    return "".join(c for c in cpf if c.isdigit())


def case_notices(engine: Engine, ledger: Ledger, stored: StoredCase) -> tuple[Notice, ...]:
    """The notices of every communication sent for the case, each with its earliest legal
    proof (as the ledger judged it) and that proof's evidence id."""
    case_id, payer = stored.id, _digits(stored.file.case.payer.cpf)
    with engine.connect() as connection:
        ids = [  # R12: only what was addressed to the payer counts, whoever sent it
            r.id
            for r in connection.execute(
                select(communications.c.id, communications.c.recipient)
                .where(communications.c.case_id == case_id)
                .order_by(communications.c.created_at)
            )
            if _digits(str(json.loads(r.recipient).get("cpf", ""))) == payer
        ]
    notices = []
    for communication_id in ids:
        records = ledger.records(communication_id=communication_id)
        by_channel: dict[str, list[EvidenceRecord]] = {}
        for record in records:
            if record.body["channel"] in NoticeChannel.__members__.values():
                by_channel.setdefault(record.body["channel"], []).append(record)
        for channel, seen in by_channel.items():
            sent = [r for r in seen if r.body["type"] == EventType.RELAY_ACCEPTED]
            proofs = [
                r
                for r in seen
                if r.body["legal_proof"]["proof"] and r.body["legal_proof"]["code"] in _PROOF_KINDS
            ]
            if not sent and not proofs:
                continue
            first = min(proofs, key=lambda r: r.body["occurred_at"]) if proofs else None
            sent_on = local_date((sent or proofs)[0].body["occurred_at"])
            proof = None
            if first is not None:
                on = max(local_date(first.body["occurred_at"]), sent_on)
                proof = Proof(kind=_PROOF_KINDS[first.body["legal_proof"]["code"]], on=on)
            notices.append(
                Notice(
                    channel=NoticeChannel(channel),
                    sent_on=sent_on,
                    proof=proof,
                    evidence_ids=(first.id,) if first is not None else (),
                )
            )
    return tuple(notices)


def clock_case(stored: StoredCase, notices: Sequence[Notice]) -> Case:
    """The case as the clock reads it: as imported, plus ccm's notices and the disputes
    opened on its channels."""
    imported = stored.file.case
    opened = tuple(
        Dispute(opened_on=d.opened_on, answered_on=d.answered_on) for d in stored.disputes
    )
    return imported.model_copy(
        update={
            "notices": (*imported.notices, *notices),
            "disputes": (*imported.disputes, *opened),
        }
    )


def evaluate_case(engine: Engine, ledger: Ledger, stored: StoredCase, at: date) -> Evaluation:
    """The RN 593 clock of a stored case at ``at``, under the case's own policy, with
    every dispute recorded so far on its channels (picked up first)."""
    return evaluate(_clock_input(engine, ledger, stored), at, stored.profile.policy)


def clock_reading(
    engine: Engine, ledger: Ledger, stored: StoredCase, at: date
) -> tuple[Evaluation, date | None]:
    """The clock at ``at`` (as :func:`evaluate_case`) and the first date from ``at`` the
    case would be eligible if nothing changed, from one reading of its notices."""
    case = _clock_input(engine, ledger, stored)
    policy = stored.profile.policy
    return evaluate(case, at, policy), first_eligible(case, at, policy)


def _clock_input(engine: Engine, ledger: Ledger, stored: StoredCase) -> Case:
    if sync_disputes(engine, ledger, stored.id, now=datetime.now(UTC)):
        stored = get_case(engine, stored.id) or stored
    return clock_case(stored, case_notices(engine, ledger, stored))


def attempt_outcomes(engine: Engine, stored: StoredCase) -> list[str]:
    """For each attempt of the case (in order): ``proved``, ``open`` (sent, no proof
    yet), ``failed``, ``cancelled`` or ``skipped`` (never sent)."""
    ids = [a.communication_id for a in stored.attempts if a.communication_id]
    with engine.connect() as connection:
        status = {
            row.id: row.status
            for row in connection.execute(
                select(communications.c.id, communications.c.status).where(
                    communications.c.id.in_(ids)
                )
            )
        }
    named = {"proven": "proved", "failed": "failed", "cancelled": "cancelled"}
    return [
        "skipped"
        if a.state == "skipped" or a.communication_id is None
        else named.get(str(status.get(a.communication_id)), "open")
        for a in stored.attempts
    ]


def certificate_section(
    stored: StoredCase,
    evaluation: Evaluation,
    outcomes: Sequence[str],
    eligible_on: date | None = None,
) -> dict[str, Any]:
    """The ``rn593`` section of the case's certificate: the verdict, the clock's dates,
    every attempt and the decisions taken."""

    def day(value: date | None) -> str | None:
        return value.isoformat() if value else None

    proof = evaluation.proof
    return {
        "contract": stored.contract_id,
        "protocol": stored.protocol,
        "verdict": {
            "proved": proof.proven,
            "date": day(proof.on),
            "channel": str(proof.channel) if proof.channel else None,
            "evidence_ids": list(proof.evidence_ids),
        },
        "clock": {
            "at": evaluation.at.isoformat(),
            "oldest_unpaid_due_date": day(evaluation.oldest_unpaid_due_date),
            "notify_by": day(evaluation.notify_by),
            "notified_on_time": evaluation.notified_on_time,
            "payment_deadline": day(evaluation.payment_deadline),
            "earliest_termination": day(evaluation.earliest_termination),
            "eligible": evaluation.eligible_for_termination,
            "eligible_from": day(eligible_on),
            "delinquent_days": evaluation.delinquent_days,
            "unpaid_installments_12m": evaluation.unpaid_installments_12m,
            "blocks": [str(b) for b in evaluation.blocks],
        },
        "attempts": [
            {
                "round": a.round + 1,
                "step": a.step + 1,
                "channel": a.channel,
                "date": local_date(a.created_at).isoformat(),
                "outcome": outcome,
                "communication_id": a.communication_id,
                "note": a.note,
            }
            for a, outcome in zip(stored.attempts, outcomes, strict=True)
        ],
        "decisions": [
            {"kind": d.kind, "date": d.decided_on.isoformat(), "evidence_ids": list(d.evidence_ids)}
            for d in stored.decisions
        ],
    }
