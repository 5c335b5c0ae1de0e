"""The RN 593 delinquency notice: totals, period in arrears, consequence date, PIX.

Interpretations (domain.md section 1.4; confirm with legal):
- delinquency day 1 is the day after a due date (R1), so the days in arrears at the
  issue date are ``issue_date - oldest due date``;
- the notice must give at least 10 calendar days to pay (R3, R4), so the payment
  deadline may not be earlier than ``issue_date + 10``;
- the consequence (termination, suspension or exclusion) may happen from the day after
  the payment deadline, unless the request states a later date.
"""

from collections.abc import Mapping
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from ccm.composition.codes import qr_data_uri
from ccm.composition.filters import as_date, as_decimal
from ccm.documents.model import DocumentInfo, repeated_competences
from ccm.errors import DataError
from ccm.payments import Boleto, PixCharge, build_brcode

__all__ = ["MINIMUM_DAYS_TO_PAY", "DelinquencyNotice", "pix_for"]

MINIMUM_DAYS_TO_PAY = 10


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
        consequence_on = data.get("consequence", {}).get("date")
        if consequence_on and as_date(consequence_on) <= deadline:
            errors.append(
                DataError(path="consequence.date", message="must be after payment.deadline")
            )
        line = data["payment"].get("boleto_line")
        if line and not errors:
            amount = Boleto.from_line(line).amount
            total = sum((as_decimal(i["updated_amount"]) for i in data["installments"]), Decimal(0))
            if amount and amount != total:
                errors.append(
                    DataError(
                        path="payment.boleto_line",
                        message=f"boleto amount {amount} differs from the updated total {total}",
                    )
                )
        return errors

    def derive(self, data: Mapping[str, Any], doc: DocumentInfo) -> dict[str, Any]:
        installments = sorted(data["installments"], key=lambda i: i["due_date"])
        issue = as_date(data["issue_date"])
        total = sum((as_decimal(i["updated_amount"]) for i in installments), Decimal(0))
        original = sum((as_decimal(i["amount"]) for i in installments), Decimal(0))
        oldest: date = as_date(installments[0]["due_date"])
        deadline = as_date(data["payment"]["deadline"])
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
                else deadline + timedelta(days=1),
            },
            "pix": pix_for(
                key=data["payment"]["pix_key"],
                receiver=data["operator"],
                amount=total,
                document_id=doc.id,
            ),
            "boleto": {"line": Boleto.from_line(line).formatted_line} if line else None,
        }
