"""Second copies (segunda via): of a boleto (line, barcode, PIX) or of a contract document.

A boleto copy must agree with itself: the amount and due date printed must be the
ones encoded in the line. The barcode is drawn from the line, never typed separately.
"""

from collections.abc import Mapping
from typing import Any

from ccm.composition.codes import itf_data_uri
from ccm.composition.filters import as_date, as_decimal
from ccm.documents.delinquency_notice import pix_for
from ccm.documents.model import DocumentInfo
from ccm.errors import DataError
from ccm.payments import Boleto

__all__ = ["SecondCopy"]


class SecondCopy:
    """Checks and derived values of ``second_copy``."""

    completes: frozenset[str] = frozenset()

    def check(self, data: Mapping[str, Any]) -> list[DataError]:
        kind = data["copy_of"]
        if kind not in data:
            return [DataError(path=kind, message=f"is required when copy_of is {kind!r}")]
        requested = data.get("request", {}).get("requested_on")
        if requested and as_date(data["issue_date"]) < as_date(requested):
            return [DataError(path="issue_date", message="must not be before request.requested_on")]
        if kind != "boleto":
            return []
        boleto = data["boleto"]
        parsed = Boleto.from_line(boleto["line"])
        errors = []
        if parsed.amount and parsed.amount != as_decimal(boleto["amount"]):
            errors.append(
                DataError(
                    path="boleto.amount",
                    message=f"differs from the amount {parsed.amount} encoded in boleto.line",
                )
            )
        due = as_date(boleto["due_date"])
        if parsed.due_date(near=due) != due:
            errors.append(
                DataError(
                    path="boleto.due_date", message="differs from the due date in boleto.line"
                )
            )
        return errors

    def derive(self, data: Mapping[str, Any], doc: DocumentInfo) -> dict[str, Any]:
        if data["copy_of"] != "boleto":
            return {"barcode": None, "pix": None}
        boleto = data["boleto"]
        parsed = Boleto.from_line(boleto["line"])
        pix = None
        if boleto.get("pix_key"):
            amount = as_decimal(boleto["amount"])
            pix = pix_for(
                key=boleto["pix_key"], receiver=data["operator"], amount=amount, document_id=doc.id
            )
        return {
            "barcode": {
                "digits": parsed.barcode,
                "image": itf_data_uri(parsed.barcode),
                "line": parsed.formatted_line,
                "bank": parsed.bank,
            },
            "pix": pix,
        }
