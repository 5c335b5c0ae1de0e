"""Insurance claim decisions: the indemnity must add up.

Templates print the amounts they are given; this model refuses data whose arithmetic
is wrong, so no letter can promise a total that its own lines contradict: each line
with a quantity equals quantity × unit amount (rounded half up to the cent, as
commercial amounts are), and the total equals the lines minus the deductions.
Declined decisions carry no indemnity (the schema says so).
"""

from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from ccm.composition.filters import as_decimal
from ccm.documents.model import DocumentInfo
from ccm.errors import DataError

__all__ = ["ClaimDecision"]

_CENT = Decimal("0.01")


class ClaimDecision:
    """Checks of ``claim_decision``."""

    completes: frozenset[str] = frozenset()

    def check(self, data: Mapping[str, Any]) -> list[DataError]:
        indemnity = data.get("indemnity")
        if not indemnity:
            return []
        errors = []
        for i, line in enumerate(indemnity["lines"]):
            if "quantity" in line:
                product = as_decimal(line["quantity"]) * as_decimal(line["unit_amount"])
                expected = product.quantize(_CENT, rounding=ROUND_HALF_UP)
                if as_decimal(line["amount"]) != expected:
                    errors.append(
                        DataError(
                            path=f"indemnity.lines[{i}].amount",
                            message=f"must be quantity × unit_amount = {expected}",
                        )
                    )
        lines = sum((as_decimal(line["amount"]) for line in indemnity["lines"]), Decimal(0))
        deductions = sum(
            (as_decimal(d["amount"]) for d in indemnity.get("deductions", [])), Decimal(0)
        )
        if as_decimal(indemnity["total"]) != lines - deductions:
            errors.append(
                DataError(
                    path="indemnity.total",
                    message=f"must be the lines ({lines}) minus the deductions ({deductions}) "
                    f"= {lines - deductions}",
                )
            )
        return errors

    def derive(self, data: Mapping[str, Any], doc: DocumentInfo) -> dict[str, Any]:
        return {}
