"""The import layout's columns: how each cell is read and where its value goes.

The cell parsers (``cell_text``, ``_date``, ``_amount``, ``_phone``, ...) and the column tables of
the ``parcelas`` sheet and the extra XLSX sheets; ``ccm/rn593/import-layout.md`` documents them.
"""

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

__all__ = [
    "CONTACT_KEYS",
    "CONTRACT_COLUMNS",
    "EXTRA_SHEETS",
    "INSTALLMENTS",
    "INSTALLMENT_COLUMNS",
    "REPEATED",
    "REQUIRED",
    "CellError",
    "Columns",
    "cell_text",
]

_Parser = Callable[[object], object]
Columns = Mapping[str, tuple[tuple[str, ...], _Parser]]
"""Column name -> (where its value goes in the CaseFile input, how its cell is read)."""


# -- cells ------------------------------------------------------------------------------


class CellError(ValueError):
    """A cell does not follow its column's format; the message is the rule."""


def cell_text(value: object) -> str | None:
    """A cell as stripped text; ``None`` when empty. XLSX dates become ISO dates."""
    if value is None:
        return None
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip() or None


def _lower(value: object) -> str | None:
    text = cell_text(value)
    return text.lower() if text else None


def _upper(value: object) -> str | None:
    text = cell_text(value)
    return text.upper() if text else None


def _date(value: object) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = cell_text(value)
    if text is None:
        return None
    iso = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", text)
    brazilian = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", text)
    try:
        if iso:
            return date(int(iso[1]), int(iso[2]), int(iso[3]))
        if brazilian:
            return date(int(brazilian[3]), int(brazilian[2]), int(brazilian[1]))
    except ValueError:
        pass  # 31/02/2026: reported below like any other non-date
    raise CellError("must be a date YYYY-MM-DD or DD/MM/YYYY")


def _competence(value: object) -> str | None:
    # Excel turns a typed "2026-09" into a date cell; operators also write "09/2026".
    if isinstance(value, date):
        return f"{value:%Y-%m}"
    text = cell_text(value)
    month_year = re.fullmatch(r"(\d{1,2})/(\d{4})", text or "")
    return f"{month_year[2]}-{int(month_year[1]):02d}" if month_year else text


def _amount(value: object) -> Decimal | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return Decimal(str(value))
    text = cell_text(value)
    if text is None:
        return None
    text = text.removeprefix("R$").strip()
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return Decimal(text)  # "1.287" stays 1.287 and is refused for its decimal places
    if re.fullmatch(r"(\d{1,3}(\.\d{3})+|\d+)(,\d+)?", text):
        return Decimal(text.replace(".", "").replace(",", "."))
    raise CellError("must be an amount like 1287.40, 1287,40 or 1.287,40")


_YES, _NO = frozenset({"sim", "true", "1", "yes"}), frozenset({"nao", "não", "false", "0", "no"})


def _yes_no(value: object) -> bool | None:
    text = _lower(value)
    if text is None:
        return None
    if text in _YES | _NO:
        return text in _YES
    raise CellError("must be sim or nao (or true/false, yes/no, 1/0)")


def _days(value: object) -> int | None:
    text = cell_text(value)
    if text is None:
        return None
    if not re.fullmatch(r"\d+", text):
        raise CellError("must be a whole number of days")
    return int(text)


def _phone(value: object) -> str | None:
    text = cell_text(value)
    if text is None:
        return None
    digits = re.sub(r"[\s().-]", "", text)
    if re.fullmatch(r"\+\d+", digits):
        return digits
    if re.fullmatch(r"\d{10,11}", digits):
        return "+55" + digits  # a Brazilian number with its area code, as operators keep them
    if re.fullmatch(r"55\d{10,11}", digits):
        return "+" + digits
    raise CellError("must be a phone number like +55 11 98765-4321 or (11) 98765-4321")


# -- layout -----------------------------------------------------------------------------


def _provenance(kind: str) -> dict[str, tuple[tuple[str, ...], _Parser]]:
    return {
        f"{kind}_source": (("contacts", kind, "source"), _lower),
        f"{kind}_updated_on": (("contacts", kind, "updated_on"), _date),
    }


INSTALLMENTS = "parcelas"
CONTRACT_COLUMNS: Columns = {
    "contract_id": (("case", "contract", "id"), cell_text),
    "contract_type": (("case", "contract", "type"), _lower),
    "pays_operator_directly": (("case", "contract", "pays_operator_directly"), _yes_no),
    "plan_name": (("plan", "name"), cell_text),
    "plan_ans_product_number": (("plan", "ans_product_number"), cell_text),
    "ticket": (("ticket",), cell_text),
    "payer_name": (("case", "payer", "name"), cell_text),
    "payer_cpf": (("case", "payer", "cpf"), cell_text),
    "payer_role": (("case", "payer", "role"), _lower),
    "payer_birth_date": (("payer_birth_date",), _date),
    "email": (("contacts", "email", "value"), cell_text),
    **_provenance("email"),
    "phone": (("contacts", "phone", "value"), _phone),
    **_provenance("phone"),
    "address_line1": (("contacts", "address", "value", "line1"), cell_text),
    "address_line2": (("contacts", "address", "value", "line2"), cell_text),
    "address_district": (("contacts", "address", "value", "district"), cell_text),
    "address_city": (("contacts", "address", "value", "city"), cell_text),
    "address_state": (("contacts", "address", "value", "state"), _upper),
    "address_postal_code": (("contacts", "address", "value", "postal_code"), cell_text),
    **_provenance("address"),
}
INSTALLMENT_COLUMNS: Columns = {
    "competence": (("competence",), _competence),
    "due_date": (("due_date",), _date),
    "amount": (("amount",), _amount),
    "paid_on": (("paid_on",), _date),
    "operator_caused_delay_days": (("operator_caused_delay_days",), _days),
}
REPEATED = frozenset(CONTRACT_COLUMNS) | {"beneficiaries"}
REQUIRED = frozenset(
    {"contract_id", "contract_type", "pays_operator_directly", "plan_name"}
    | {"plan_ans_product_number", "payer_name", "payer_cpf", "payer_role"}
    | {"competence", "due_date", "amount"}
)
CONTACT_KEYS = {"email": "email", "phone": "phone", "address": "address_line1"}
"""The column whose value makes each contact present."""


@dataclass(frozen=True, slots=True)
class _ExtraSheet:
    field: str
    """The list of :class:`Case` its rows go to."""
    columns: Columns
    required: frozenset[str]


EXTRA_SHEETS = {
    "internacoes": _ExtraSheet(
        "hospitalizations",
        {"from": (("from",), _date), "to": (("to",), _date)},
        frozenset({"from"}),
    ),
    "contestacoes": _ExtraSheet(
        "disputes",
        {"opened_on": (("opened_on",), _date), "answered_on": (("answered_on",), _date)},
        frozenset({"opened_on"}),
    ),
    "acordos": _ExtraSheet(
        "agreements",
        {"signed_on": (("signed_on",), _date), "status": (("status",), _lower)},
        frozenset({"signed_on", "status"}),
    ),
}
