"""The annual income-tax statement of plan payments (demonstrativo para o IRPF).

No rule obliges operators to send it (domain.md section 5.6), but its amounts must
equal what the operator files in the DMED for the same year, per CPF (rule R44), so
the beneficiaries' split must add up to the payments received. Collective business
plans are not in the operator's DMED: the employer reports them, so no statement.
"""

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from ccm.composition.filters import as_date, as_decimal
from ccm.documents.model import DocumentInfo
from ccm.errors import DataError

__all__ = ["PaymentStatement"]


def _sum(values: list[Any]) -> Decimal:
    return sum((as_decimal(v) for v in values), Decimal(0))


class PaymentStatement:
    """Checks and derived values of ``payment_statement``."""

    completes: frozenset[str] = frozenset()

    def check(self, data: Mapping[str, Any]) -> list[DataError]:
        year = int(data["year"])
        errors = []
        if data["plan"].get("type") == "coletivo_empresarial":
            errors.append(
                DataError(
                    path="plan.type",
                    message="collective business plans are reported by the employer, not in the "
                    "operator's DMED; no statement is issued (rule R44)",
                )
            )
        for i, payment in enumerate(data["payments"]):
            if as_date(payment["paid_on"]).year != year:
                errors.append(
                    DataError(path=f"payments[{i}].paid_on", message=f"must fall in {year}")
                )
        for i, person in enumerate(data["beneficiaries"]):
            if not person.get("cpf") and not person.get("birth_date"):
                errors.append(
                    DataError(
                        path=f"beneficiaries[{i}]",
                        message="needs a cpf, or a birth_date when there is none (DMED)",
                    )
                )
        paid = _sum([p["amount"] for p in data["payments"]])
        split = _sum([b["amount_paid"] for b in data["beneficiaries"]])
        if paid != split:
            errors.append(
                DataError(
                    path="beneficiaries",
                    message=f"amount_paid adds up to {split} but payments add up to {paid}; "
                    "the statement must match the DMED (rule R44)",
                )
            )
        return errors

    def derive(self, data: Mapping[str, Any], doc: DocumentInfo) -> dict[str, Any]:
        beneficiaries = data["beneficiaries"]
        paid = _sum([b["amount_paid"] for b in beneficiaries])
        reimbursed = _sum([b.get("amount_reimbursed", "0.00") for b in beneficiaries])
        return {
            "totals": {
                "paid": paid,
                "reimbursed": reimbursed,
                "payments": sorted(data["payments"], key=lambda p: p["paid_on"]),
            }
        }
