"""Validation of request data: the template's JSON Schema, then domain formats.

Formats carry the Brazilian and Portuguese rules (CPF and CNPJ check digits, PIX keys,
boleto lines, dates, money as decimal strings). Every problem becomes a
:class:`~ccm.errors.DataError` whose path reads like ``installments[2].due_date`` and
whose message names the rule, e.g. ``payer.cpf: invalid CPF check digits``.
"""

import re
from collections.abc import Callable, Iterable
from datetime import date
from decimal import Decimal, InvalidOperation
from email.headerregistry import Address
from typing import Any

import phonenumbers
from jsonschema import Draft202012Validator, FormatChecker, ValidationError

from ccm.errors import DataError
from ccm.identifiers import validate_cnpj, validate_cpf, validate_nif, validate_tracking_code
from ccm.payments import Boleto
from ccm.payments.pix import normalize_pix_key

__all__ = ["FORMATS", "format_path", "schema_errors", "validator_for"]

_UF = set(
    "AC AL AP AM BA CE DF ES GO MA MT MS MG PA PB PR PE PI RJ RN RS RO RR SC SP SE TO".split()
)
_MONEY = re.compile(r"[0-9]{1,12}\.[0-9]{2}")


def _date(value: str) -> None:
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        raise ValueError("must be a date as YYYY-MM-DD")
    try:
        date.fromisoformat(value)
    except ValueError as err:
        raise ValueError("is not a real calendar date") from err


def _competence(value: str) -> None:
    match = re.fullmatch(r"([0-9]{4})-([0-9]{2})", value)
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise ValueError("must be a month as YYYY-MM")


def _money(value: str) -> None:
    if not _MONEY.fullmatch(value):
        raise ValueError('must be money as a decimal string with 2 places, e.g. "1234.50"')
    try:
        Decimal(value)
    except InvalidOperation as err:  # pragma: no cover - the pattern already excludes this
        raise ValueError("is not a number") from err


def _cep(value: str) -> None:
    if not re.fullmatch(r"[0-9]{5}-?[0-9]{3}", value):
        raise ValueError("CEP must have 8 digits, as 01310-100")


def _uf(value: str) -> None:
    if value not in _UF:
        raise ValueError("must be a Brazilian state abbreviation, as SP")


def _postal_code_pt(value: str) -> None:
    if not re.fullmatch(r"[0-9]{4}-[0-9]{3}", value):
        raise ValueError("código postal must be NNNN-NNN")


def _ans_registration(value: str) -> None:
    if not re.fullmatch(r"[0-9]{6}", value):
        raise ValueError("ANS registration must have 6 digits")


_EMAIL = re.compile(
    r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,}",
    re.ASCII,
)


def _email(value: str) -> None:
    # ASCII addresses only: messages go out without SMTPUTF8, and every address
    # accepted here must also be one the e-mail headers can carry.
    if not _EMAIL.fullmatch(value):
        raise ValueError("must be an e-mail address (ASCII, as name@example.com)")
    try:
        Address(addr_spec=value)
    except (ValueError, IndexError) as err:
        raise ValueError("must be an e-mail address (ASCII, as name@example.com)") from err


def _phone(value: str) -> None:
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException as err:
        raise ValueError("phone must be in international form, as +5511987654321") from err
    if not phonenumbers.is_valid_number(number):
        raise ValueError("is not a valid phone number")


def _boleto_line(value: str) -> None:
    Boleto.from_line(value)


FORMATS: dict[str, Callable[[str], object]] = {
    "cpf": validate_cpf,
    "cnpj": validate_cnpj,
    "nif": validate_nif,
    "date": _date,
    "competence": _competence,
    "money": _money,
    "cep": _cep,
    "uf": _uf,
    "postal-code-pt": _postal_code_pt,
    "ans-registration": _ans_registration,
    "email": _email,
    "phone": _phone,
    "pix-key": normalize_pix_key,
    "boleto-line": _boleto_line,
    "tracking-code": validate_tracking_code,
}
"""Custom JSON Schema formats; each raises ``ValueError`` with the rule broken."""


def _passes(check: Callable[[str], object]) -> Callable[[object], bool]:
    """Adapt a raising check to jsonschema, which reads a falsy return as invalid.

    Non-strings pass: the ``type`` keyword reports them.
    """

    def run(value: object) -> bool:
        if isinstance(value, str):
            check(value)
        return True

    return run


def _format_checker() -> FormatChecker:
    checker = FormatChecker(formats=())
    for name, check in FORMATS.items():
        checker.checks(name, raises=ValueError)(_passes(check))
    return checker


def validator_for(schema: dict[str, Any]) -> Draft202012Validator:
    """A validator that enforces ``format`` with ccm's domain formats.

    Raises:
        jsonschema.SchemaError: ``schema`` is not a valid JSON Schema.
    """
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=_format_checker())


def format_path(parts: Iterable[str | int]) -> str:
    """``["installments", 2, "due_date"]`` -> ``installments[2].due_date``."""
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _article(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"


def _walk(node: Any, steps: Iterable[Any]) -> Any:
    for step in steps:
        node = node[step]
    return node


def _forbidden_fields(error: ValidationError, schema: Any, data: Any) -> list[str]:
    """Names of the fields a ``false`` subschema under ``properties`` refused.

    jsonschema 4.26 leaves the property out of the error's path for boolean subschemas.
    """
    schema_path = list(error.absolute_schema_path)
    if not schema_path or schema_path[-1] != "properties":
        return []
    properties = _walk(schema, schema_path)
    parent = _walk(data, error.absolute_path)
    return [name for name, sub in properties.items() if sub is False and name in parent]


def _message(error: ValidationError, schema: Any, data: Any) -> tuple[list[str | int], str]:
    path: list[str | int] = list(error.absolute_path)
    kind = error.validator
    if error.schema is False:
        return path + _forbidden_fields(error, schema, data)[:1], "is not allowed here"
    if kind == "format":
        return path, str(error.cause) if error.cause else f"must be a valid {error.validator_value}"
    if kind == "required":
        match = re.match(r"^'(.+)' is a required property$", error.message)
        return path + ([match.group(1)] if match else []), "is required"
    if kind == "additionalProperties":
        extra = re.findall(r"'([^']+)'", error.message.split("(")[-1])
        return path + extra[:1], "is not a field of this template"
    value: Any = error.validator_value
    if kind == "type":
        names = [str(n) for n in value] if isinstance(value, list) else [str(value)]
        return path, "must be " + " or ".join(f"{_article(n)} {n}" for n in names)
    if kind == "enum":
        return path, "must be one of: " + ", ".join(map(str, value))
    if kind == "const":
        return path, f"must be {value!r}"
    if kind == "minItems":
        return path, f"must have at least {value} item(s)"
    if kind == "maxItems":
        return path, f"must have at most {value} item(s)"
    if kind == "minLength":
        return path, f"must have at least {value} character(s)"
    if kind == "maxLength":
        return path, f"must have at most {value} characters"
    if kind == "not":
        # {"not": {"required": ["x"]}} forbids a field: name it.
        forbidden = value.get("required", []) if isinstance(value, dict) else []
        return path + forbidden[:1], "is not allowed here"
    if kind == "pattern":
        rule = error.schema.get("x-rule") if isinstance(error.schema, dict) else None
        return path, rule or f"must match {value}"
    if kind in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        return path, f"breaks {kind} {value}"
    # Other keywords: jsonschema's message may quote the whole instance; keep it short.
    message = error.message if len(error.message) <= 160 else f"breaks the schema's {kind} rule"
    return path, message


def schema_errors(validator: Draft202012Validator, data: Any) -> list[DataError]:
    """Every schema problem in ``data``, sorted by path."""
    found = []
    for error in validator.iter_errors(data):
        path, message = _message(error, validator.schema, data)
        found.append(DataError(path=format_path(path), message=message))
    return sorted(set(found), key=lambda e: (e.path, e.message))
