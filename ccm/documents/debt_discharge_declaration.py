"""The annual debt-discharge declaration of Lei 12.007/2009 (rule R43).

Issued only when every installment that fell due from January to December of the
year is paid (art. 2 §1). Installments whose debt is being contested in court are left
out and listed apart (art. 2 §3); if the service was not used all year, the
declaration covers the months billed (art. 2 §2). It replaces the monthly receipts
(art. 4), which the text must say. A contested installment is left out even when a
payment was recorded for it: the declaration speaks only of undisputed months.
"""

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from ccm.composition.filters import as_date, as_decimal
from ccm.documents.model import DocumentInfo, repeated_competences
from ccm.errors import DataError

__all__ = ["DebtDischargeDeclaration"]


class DebtDischargeDeclaration:
    """Checks and derived values of ``debt_discharge_declaration``."""

    completes: frozenset[str] = frozenset()

    def check(self, data: Mapping[str, Any]) -> list[DataError]:
        year = int(data["year"])
        errors = repeated_competences(data["installments"])
        if as_date(data["issue_date"]).year <= year:
            errors.append(DataError(path="issue_date", message=f"must be after the end of {year}"))
        for i, inst in enumerate(data["installments"]):
            due = as_date(inst["due_date"])
            if due.year != year:
                errors.append(
                    DataError(
                        path=f"installments[{i}].due_date",
                        message=f"must fall in {year}, the year declared",
                    )
                )
            paid_on = inst.get("paid_on")
            if paid_on is not None and as_date(paid_on) > as_date(data["issue_date"]):
                errors.append(
                    DataError(
                        path=f"installments[{i}].paid_on",
                        message="must not be after issue_date: only payments made can be declared",
                    )
                )
            if paid_on is None and not inst.get("contested_in_court", False):
                errors.append(
                    DataError(
                        path=f"installments[{i}].paid_on",
                        message=f"is missing: the declaration requires every installment due in "
                        f"{year} to be paid, unless contested in court (Lei 12.007/2009 art. 2)",
                    )
                )
        if all(inst.get("contested_in_court", False) for inst in data["installments"]):
            errors.append(
                DataError(
                    path="installments",
                    message="every installment is contested in court: there is nothing to declare",
                )
            )
        return errors

    def derive(self, data: Mapping[str, Any], doc: DocumentInfo) -> dict[str, Any]:
        installments = sorted(data["installments"], key=lambda i: i["due_date"])
        paid = [i for i in installments if not i.get("contested_in_court", False)]
        contested = [i for i in installments if i.get("contested_in_court", False)]
        return {
            "declaration": {
                "paid": paid,
                "contested": contested,
                "total_paid": sum((as_decimal(i["amount"]) for i in paid), Decimal(0)),
                "months_billed": len(installments),
                "full_year": len(installments) == 12,
            }
        }
