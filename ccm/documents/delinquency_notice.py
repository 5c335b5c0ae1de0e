"""The RN 593 delinquency notice: totals, period in arrears, consequence date, PIX.

Interpretations (domain.md section 1.4; confirm with legal):
- delinquency day 1 is the day after a due date (R1), so the days in arrears at the
  issue date are ``issue_date - oldest due date``;
- the notice must give at least 10 calendar days to pay (R3, R4), so the payment
  deadline may not be earlier than ``issue_date + 10``;
- a consequence may only be announced when at least two installments are unpaid in
  the 12 months ending at the latest one (RN 593 art. 4 §3, R5);
- for individual and family plans (and when the plan type is not given) the statute
  requires more than 60 days of non-payment (Lei 9.656 art. 13 II, R6): the
  consequence may not start before the oldest due date + 61 days;
- the consequence starts the day after the payment deadline, or on day 61 when that
  is later, unless the request states a later date;
- a boleto printed on the notice falls due on the payment deadline, for the total.
"""

from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from ccm.composition.codes import qr_data_uri
from ccm.composition.filters import as_date, as_decimal
from ccm.documents.model import DocumentInfo, repeated_competences
from ccm.errors import DataError
from ccm.payments import Boleto, PixCharge, build_brcode

__all__ = [
    "MINIMUM_DAYS_TO_PAY",
    "MINIMUM_UNPAID_INSTALLMENTS",
    "STATUTORY_DAYS",
    "DelinquencyNotice",
    "earliest_consequence",
    "pix_for",
]

MINIMUM_DAYS_TO_PAY = 10
MINIMUM_UNPAID_INSTALLMENTS = 2
STATUTORY_DAYS = 60
"""Lei 9.656 art. 13 II: more than 60 days of non-payment (individual and family plans)."""
_STATUTE_APPLIES = (None, "individual", "familiar")


def earliest_consequence(data: Mapping[str, Any]) -> date:
    """The first day a consequence may start (rules R4 and R6)."""
    after_deadline = as_date(data["payment"]["deadline"]) + timedelta(days=1)
    if data["plan"].get("type") not in _STATUTE_APPLIES:
        return after_deadline
    oldest = min(as_date(i["due_date"]) for i in data["installments"])
    return max(after_deadline, oldest + timedelta(days=STATUTORY_DAYS + 1))


def _unpaid_in_twelve_months(installments: Sequence[Mapping[str, Any]]) -> int:
    latest = max(as_date(i["due_date"]) for i in installments)
    return sum(1 for i in installments if (latest - as_date(i["due_date"])).days < 365)


def pix_for(
    *, key: str, receiver: Mapping[str, Any], amount: Decimal, document_id: str
) -> dict[str, str]:
    """The PIX "copia e cola" payload and its QR image for a charge to ``receiver``."""
    payload = build_brcode(
        PixCharge(
            key=key,
            merchant_name=receiver["name"],
            merchant_city=receiver["address"]["city"],
            amount=amount,
            txid=document_id,
        )
    )
    return {"payload": payload, "qr": qr_data_uri(payload)}


class DelinquencyNotice:
    """Checks and derived values of ``delinquency_notice``."""

    completes: frozenset[str] = frozenset({"consequence"})

    def check(self, data: Mapping[str, Any]) -> list[DataError]:
        issue = as_date(data["issue_date"])
        errors = repeated_competences(data["installments"])
        for i, inst in enumerate(data["installments"]):
            if as_date(inst["due_date"]) >= issue:
                errors.append(
                    DataError(
                        path=f"installments[{i}].due_date",
                        message="an unpaid installment must fall due before the issue date",
                    )
                )
            if as_decimal(inst["updated_amount"]) < as_decimal(inst["amount"]):
                errors.append(
                    DataError(
                        path=f"installments[{i}].updated_amount",
                        message="must not be less than the original amount",
                    )
                )
        deadline = as_date(data["payment"]["deadline"])
        if deadline < issue + timedelta(days=MINIMUM_DAYS_TO_PAY):
            errors.append(
                DataError(
                    path="payment.deadline",
                    message=f"must be at least {MINIMUM_DAYS_TO_PAY} days after issue_date "
                    "(RN 593: 10 days to pay from the notice, rules R3/R4)",
                )
            )
        if _unpaid_in_twelve_months(data["installments"]) < MINIMUM_UNPAID_INSTALLMENTS:
            errors.append(
                DataError(
                    path="installments",
                    message=f"a suspension or termination needs at least "
                    f"{MINIMUM_UNPAID_INSTALLMENTS} unpaid installments in 12 months "
                    "(RN 593 art. 4 §3, rule R5)",
                )
            )
        consequence_on = data.get("consequence", {}).get("date")
        if consequence_on and not errors and as_date(consequence_on) < earliest_consequence(data):
            errors.append(
                DataError(
                    path="consequence.date",
                    message=f"must not be before {earliest_consequence(data).isoformat()}: the day "
                    f"after payment.deadline and, for individual and family plans, after more "
                    f"than {STATUTORY_DAYS} days of non-payment (rules R4, R6)",
                )
            )
        line = data["payment"].get("boleto_line")
        if line and not errors:
            boleto = Boleto.from_line(line)
            total = sum((as_decimal(i["updated_amount"]) for i in data["installments"]), Decimal(0))
            if boleto.amount and boleto.amount != total:
                errors.append(
                    DataError(
                        path="payment.boleto_line",
                        message=f"boleto amount {boleto.amount} differs from the total {total}",
                    )
                )
            if boleto.due_date(near=deadline) != deadline:
                errors.append(
                    DataError(
                        path="payment.boleto_line",
                        message="the boleto must fall due on payment.deadline",
                    )
                )
        return errors

    def derive(self, data: Mapping[str, Any], doc: DocumentInfo) -> dict[str, Any]:
        installments = sorted(data["installments"], key=lambda i: i["due_date"])
        issue = as_date(data["issue_date"])
        total = sum((as_decimal(i["updated_amount"]) for i in installments), Decimal(0))
        original = sum((as_decimal(i["amount"]) for i in installments), Decimal(0))
        oldest: date = as_date(installments[0]["due_date"])
        consequence = data.get("consequence", {})
        line = data["payment"].get("boleto_line")
        return {
            "debt": {
                "installments": [
                    {**i, "days_overdue": (issue - as_date(i["due_date"])).days}
                    for i in installments
                ],
                "total": total,
                "original_total": original,
                "charges": total - original,
                "count": len(installments),
                "oldest_due_date": oldest,
                "days_overdue": (issue - oldest).days,
                "first_competence": installments[0]["competence"],
                "last_competence": installments[-1]["competence"],
            },
            "consequence": {
                "action": consequence.get("action", "termination"),
                "date": as_date(consequence["date"])
                if consequence.get("date")
                else earliest_consequence(data),
            },
            "pix": pix_for(
                key=data["payment"]["pix_key"],
                receiver=data["operator"],
                amount=total,
                document_id=doc.id,
            ),
            "boleto": {"line": Boleto.from_line(line).formatted_line} if line else None,
        }
