"""The RN 593 clock: for a case at a date, who must be notified by when, whether a legal
proof exists, and when (and whether) the contract may be suspended or terminated.

Pure functions of the case, the date and the policy; no clock, no database. The
interpretations (rules R1-R11 and R24 in ``shared/reference/domain.md``), each stated
where it is applied; those the law leaves unsettled are fields of :class:`ClockPolicy`:

- an installment is *unpaid at a date* when it is due before that date and was not paid
  on or before it (``paid_on`` after the date is still unpaid then);
- delinquent days (R1, R7, R8) are calendar days from the day after the due date of the
  oldest unpaid installment to the evaluation date, minus the days of delay the operator
  caused on it; installments already paid, even late, add nothing;
- ``notify_by`` is that due date + 50 days (R2). Operator-caused delay is not added: the
  earlier date is never wrong for the operator;
- a notice proves only with its channel's proof (R14-R18) dated on or after the oldest
  unpaid due date (a proof of an earlier, settled debt does not count); the earliest
  such proof is the one used;
- the payment deadline is the proof date + 10 calendar days, the last day to pay (R3, R4,
  CC art. 132: the proof day excluded); the earliest termination is the next day. An open
  dispute suspends the clock; an answered dispute opened on or after the proof restarts
  the 10 days from the answer (R9); a hospitalisation of the titular blocks while it lasts
  and, by policy, owes 10 new days from the discharge (R11, to confirm);
- eligibility (R5, R6): at least 2 installments unpaid at the date with a due date in the
  12 months up to it; for individual and familiar contracts more than 60 delinquent days;
  a valid proof; the payment deadline passed; and no block.
"""

import calendar
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ccm.rn593.case import PROOF_KINDS_BY_CHANNEL, Case, ContractType, Installment, Notice

__all__ = [
    "Block",
    "ClockPolicy",
    "Evaluation",
    "ProofFound",
    "evaluate",
    "first_eligible",
    "unpaid_at",
]


class Block(StrEnum):
    """Why a contract may not be suspended or terminated at the evaluation date."""

    PAID = "paid"
    NOT_COVERED = "not_covered"
    HOSPITALIZED = "hospitalized"
    DISPUTE_OPEN = "dispute_open"
    AGREEMENT_ACTIVE = "agreement_active"
    FEWER_THAN_TWO_UNPAID = "fewer_than_two_unpaid"
    NOT_OVER_60_DAYS = "not_over_60_days"
    NOT_NOTIFIED = "not_notified"
    PAYMENT_WINDOW_OPEN = "payment_window_open"


class ClockPolicy(BaseModel):
    """The interpretations an operator's legal team may set (defaults: as stated above)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    notice_days: int = Field(default=50, ge=1, le=365)
    """Days after the oldest unpaid due date by which the notice must be proven (R2)."""
    payment_window_days: int = Field(default=10, ge=1, le=90)
    """Calendar days to pay after the proof, an answered dispute or a discharge (R4, R9)."""
    min_unpaid_installments: int = Field(default=2, ge=1, le=12)
    """Unpaid installments required in the look-back (R5); 1 for the pre-RN 617 regime."""
    lookback_months: int = Field(default=12, ge=1, le=60)
    over_days_individual: int = Field(default=60, ge=0, le=365)
    """Individual and familiar contracts need more than this many delinquent days (R6)."""
    new_window_after_discharge: bool = True
    """Owe a new payment window from a titular's discharge (R11: to confirm with legal)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ProofFound:
    proven: bool
    channel: str | None = None
    on: date | None = None
    """The proof's date (the notification date for the law)."""
    evidence_ids: tuple[str, ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {
            "proven": self.proven,
            "channel": self.channel,
            "date": self.on.isoformat() if self.on else None,
            "evidence_ids": list(self.evidence_ids),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Evaluation:
    at: date
    delinquent_days: int
    unpaid_installments_12m: int
    oldest_unpaid_due_date: date | None
    notify_by: date | None
    notice_required: bool
    proof: ProofFound
    notified_on_time: bool | None
    payment_deadline: date | None
    earliest_termination: date | None
    eligible_for_termination: bool
    blocks: tuple[Block, ...] = field(default=())

    def as_json(self) -> dict[str, Any]:
        def day(value: date | None) -> str | None:
            return value.isoformat() if value else None

        return {
            "at": self.at.isoformat(),
            "delinquent_days": self.delinquent_days,
            "unpaid_installments_12m": self.unpaid_installments_12m,
            "oldest_unpaid_due_date": day(self.oldest_unpaid_due_date),
            "notify_by": day(self.notify_by),
            "notice_required": self.notice_required,
            "proof": self.proof.as_json(),
            "notified_on_time": self.notified_on_time,
            "payment_deadline": day(self.payment_deadline),
            "earliest_termination": day(self.earliest_termination),
            "eligible_for_termination": self.eligible_for_termination,
            "blocks": [str(b) for b in self.blocks],
        }


def unpaid_at(installment: Installment, at: date) -> bool:
    """Due before ``at`` and not paid on or before it."""
    return installment.due_date < at and (installment.paid_on is None or installment.paid_on > at)


def _months_before(day: date, months: int) -> date:
    """The same day ``months`` months earlier (the month's last day when it has fewer)."""
    month_index = day.year * 12 + day.month - 1 - months
    year, month = divmod(month_index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def _proof(notices: tuple[Notice, ...], since: date, at: date) -> ProofFound:
    """The earliest legally sufficient proof dated from ``since`` up to ``at``."""
    valid = [
        n
        for n in notices
        if n.proof is not None
        and n.proof.kind in PROOF_KINDS_BY_CHANNEL[n.channel]
        and since <= n.proof.on <= at
    ]
    if not valid:
        return ProofFound(proven=False)
    first = min(valid, key=lambda n: (n.proof.on if n.proof else at, n.sent_on))
    assert first.proof is not None
    return ProofFound(
        proven=True,
        channel=str(first.channel),
        on=first.proof.on,
        evidence_ids=first.evidence_ids,
    )


def evaluate(case: Case, at: date, policy: ClockPolicy | None = None) -> Evaluation:
    """The clock of ``case`` at the end of day ``at``."""
    policy = policy or ClockPolicy()
    window = timedelta(days=policy.payment_window_days)
    unpaid = sorted((i for i in case.installments if unpaid_at(i, at)), key=lambda i: i.due_date)
    oldest = unpaid[0] if unpaid else None
    since = _months_before(at, policy.lookback_months)
    unpaid_12m = sum(1 for i in unpaid if i.due_date > since)
    delinquent = 0
    if oldest is not None:
        delinquent = max(0, (at - oldest.due_date).days - oldest.operator_caused_delay_days)
    notify_by = oldest.due_date + timedelta(days=policy.notice_days) if oldest else None

    proof = _proof(case.notices, oldest.due_date, at) if oldest else ProofFound(proven=False)
    deadline: date | None = None
    blocks: list[Block] = []
    if oldest is None:
        blocks.append(Block.PAID)
    covered = not (
        case.contract.type is ContractType.COLETIVO_EMPRESARIAL
        and not case.contract.pays_operator_directly
    )
    if not covered:
        blocks.append(Block.NOT_COVERED)
    if any(h.from_ <= at and (h.to is None or h.to >= at) for h in case.hospitalizations):
        blocks.append(Block.HOSPITALIZED)
    open_dispute = any(
        d.opened_on <= at and (d.answered_on is None or d.answered_on > at) for d in case.disputes
    )
    if open_dispute:
        blocks.append(Block.DISPUTE_OPEN)
    if any(a.status == "active" and a.signed_on <= at for a in case.agreements):
        blocks.append(Block.AGREEMENT_ACTIVE)
    if oldest is not None and unpaid_12m < policy.min_unpaid_installments:
        blocks.append(Block.FEWER_THAN_TWO_UNPAID)
    individual = case.contract.type in {ContractType.INDIVIDUAL, ContractType.FAMILIAR}
    if oldest is not None and individual and delinquent <= policy.over_days_individual:
        blocks.append(Block.NOT_OVER_60_DAYS)
    if oldest is not None and not proof.proven:
        blocks.append(Block.NOT_NOTIFIED)
    if proof.proven and proof.on is not None:
        deadline = proof.on + window
        for dispute in case.disputes:  # R9: the answer restarts the window
            answered = dispute.answered_on
            if answered is not None and answered <= at and dispute.opened_on >= proof.on:
                deadline = max(deadline, answered + window)
        if policy.new_window_after_discharge:  # R11: a new window after discharge
            for stay in case.hospitalizations:
                if stay.to is not None and stay.to <= at and stay.to >= proof.on:
                    deadline = max(deadline, stay.to + window)
        if open_dispute:
            deadline = None  # suspended until the operator answers
        elif at <= deadline:
            blocks.append(Block.PAYMENT_WINDOW_OPEN)
    on_time = None
    if proof.proven and proof.on is not None and notify_by is not None:
        on_time = proof.on <= notify_by
    return Evaluation(
        at=at,
        delinquent_days=delinquent,
        unpaid_installments_12m=unpaid_12m,
        oldest_unpaid_due_date=oldest.due_date if oldest else None,
        notify_by=notify_by,
        notice_required=oldest is not None and covered and not proof.proven,
        proof=proof,
        notified_on_time=on_time,
        payment_deadline=deadline,
        earliest_termination=deadline + timedelta(days=1) if deadline else None,
        eligible_for_termination=not blocks,
        blocks=tuple(blocks),
    )


def first_eligible(
    case: Case, start: date, policy: ClockPolicy | None = None, *, horizon_days: int = 400
) -> date | None:
    """The first date from ``start`` on which the case would be eligible for suspension
    or termination if nothing else happened (no payment, dispute or stay): the payment
    deadline passed *and* more than 60 delinquent days, which may come later. ``None``
    when not within ``horizon_days`` (no proof yet, say)."""
    policy = policy or ClockPolicy()
    if not evaluate(case, start, policy).proof.proven:
        return None
    for offset in range(horizon_days + 1):
        day = start + timedelta(days=offset)
        if evaluate(case, day, policy).eligible_for_termination:
            return day
    return None
