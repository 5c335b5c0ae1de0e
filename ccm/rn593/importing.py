"""Importing an operator's file of overdue contracts as RN 593 delinquency cases.

A ``.csv`` or ``.xlsx`` file has one row per installment, the contract's columns repeated
on each of its rows (``ccm/rn593/import-layout.md`` documents the columns); a ``.json``
file holds one :class:`CaseFile` or a list of them. Every problem in the file is collected
and raised as one :class:`DataValidationError` whose paths name the sheet, the line as a
spreadsheet shows it (header = line 1) and the column: ``parcelas[3].due_date``.
"""

import csv
import difflib
import io
import json
import re
import unicodedata
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import PurePath
from typing import Any

import openpyxl
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from ccm.errors import DataError, DataValidationError
from ccm.identifiers import InvalidIdentifier, validate_cpf
from ccm.rn593.casefile import CaseFile
from ccm.rn593.reading import error_path

__all__ = ["ACCEPTED_EXTENSIONS", "read_cases"]

ACCEPTED_EXTENSIONS = (".csv", ".xlsx", ".json")
"""File name extensions :func:`read_cases` reads (compared case-insensitively)."""

_Loc = tuple[int | str, ...]
_Parser = Callable[[object], object]
_Columns = Mapping[str, tuple[tuple[str, ...], _Parser]]
"""Column name -> (where its value goes in the CaseFile input, how its cell is read)."""


# -- cells ------------------------------------------------------------------------------


class _CellError(ValueError):
    """A cell does not follow its column's format; the message is the rule."""


def _text(value: object) -> str | None:
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
    text = _text(value)
    return text.lower() if text else None


def _upper(value: object) -> str | None:
    text = _text(value)
    return text.upper() if text else None


def _date(value: object) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _text(value)
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
    raise _CellError("must be a date YYYY-MM-DD or DD/MM/YYYY")


def _competence(value: object) -> str | None:
    # Excel turns a typed "2026-09" into a date cell; operators also write "09/2026".
    if isinstance(value, date):
        return f"{value:%Y-%m}"
    text = _text(value)
    month_year = re.fullmatch(r"(\d{1,2})/(\d{4})", text or "")
    return f"{month_year[2]}-{int(month_year[1]):02d}" if month_year else text


def _amount(value: object) -> Decimal | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return Decimal(str(value))
    text = _text(value)
    if text is None:
        return None
    text = text.removeprefix("R$").strip()
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return Decimal(text)  # "1.287" stays 1.287 and is refused for its decimal places
    if re.fullmatch(r"(\d{1,3}(\.\d{3})+|\d+)(,\d+)?", text):
        return Decimal(text.replace(".", "").replace(",", "."))
    raise _CellError("must be an amount like 1287.40, 1287,40 or 1.287,40")


_YES, _NO = frozenset({"sim", "true", "1", "yes"}), frozenset({"nao", "não", "false", "0", "no"})


def _yes_no(value: object) -> bool | None:
    text = _lower(value)
    if text is None:
        return None
    if text in _YES | _NO:
        return text in _YES
    raise _CellError("must be sim or nao (or true/false, yes/no, 1/0)")


def _days(value: object) -> int | None:
    text = _text(value)
    if text is None:
        return None
    if not re.fullmatch(r"\d+", text):
        raise _CellError("must be a whole number of days")
    return int(text)


def _phone(value: object) -> str | None:
    text = _text(value)
    if text is None:
        return None
    digits = re.sub(r"[\s().-]", "", text)
    if re.fullmatch(r"\+\d+", digits):
        return digits
    if re.fullmatch(r"\d{10,11}", digits):
        return "+55" + digits  # a Brazilian number with its area code, as operators keep them
    if re.fullmatch(r"55\d{10,11}", digits):
        return "+" + digits
    raise _CellError("must be a phone number like +55 11 98765-4321 or (11) 98765-4321")


# -- layout -----------------------------------------------------------------------------


def _provenance(kind: str) -> dict[str, tuple[tuple[str, ...], _Parser]]:
    return {
        f"{kind}_source": (("contacts", kind, "source"), _lower),
        f"{kind}_updated_on": (("contacts", kind, "updated_on"), _date),
    }


_INSTALLMENTS = "parcelas"
_CONTRACT_COLUMNS: _Columns = {
    "contract_id": (("case", "contract", "id"), _text),
    "contract_type": (("case", "contract", "type"), _lower),
    "pays_operator_directly": (("case", "contract", "pays_operator_directly"), _yes_no),
    "plan_name": (("plan", "name"), _text),
    "plan_ans_product_number": (("plan", "ans_product_number"), _text),
    "ticket": (("ticket",), _text),
    "payer_name": (("case", "payer", "name"), _text),
    "payer_cpf": (("case", "payer", "cpf"), _text),
    "payer_role": (("case", "payer", "role"), _lower),
    "payer_birth_date": (("payer_birth_date",), _date),
    "email": (("contacts", "email", "value"), _text),
    **_provenance("email"),
    "phone": (("contacts", "phone", "value"), _phone),
    **_provenance("phone"),
    "address_line1": (("contacts", "address", "value", "line1"), _text),
    "address_line2": (("contacts", "address", "value", "line2"), _text),
    "address_district": (("contacts", "address", "value", "district"), _text),
    "address_city": (("contacts", "address", "value", "city"), _text),
    "address_state": (("contacts", "address", "value", "state"), _upper),
    "address_postal_code": (("contacts", "address", "value", "postal_code"), _text),
    **_provenance("address"),
}
_INSTALLMENT_COLUMNS: _Columns = {
    "competence": (("competence",), _competence),
    "due_date": (("due_date",), _date),
    "amount": (("amount",), _amount),
    "paid_on": (("paid_on",), _date),
    "operator_caused_delay_days": (("operator_caused_delay_days",), _days),
}
_REPEATED = frozenset(_CONTRACT_COLUMNS) | {"beneficiaries"}
_REQUIRED = frozenset(
    {"contract_id", "contract_type", "pays_operator_directly", "plan_name"}
    | {"plan_ans_product_number", "payer_name", "payer_cpf", "payer_role"}
    | {"competence", "due_date", "amount"}
)
_CONTACT_KEYS = {"email": "email", "phone": "phone", "address": "address_line1"}
"""The column whose value makes each contact present."""


@dataclass(frozen=True, slots=True)
class _ExtraSheet:
    field: str
    """The list of :class:`Case` its rows go to."""
    columns: _Columns
    required: frozenset[str]


_EXTRA_SHEETS = {
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

_PATTERN_RULES = {
    "cpf": "must be a CPF like 284.197.365-46",
    "competence": "must be a month YYYY-MM or MM/YYYY",
    "postal_code": "must be a CEP like 04107-020",
    "state": "must be a state abbreviation like SP",
    "email": "must be an email address",
    "phone": "must be a phone number in E.164, like +5511987654321",
    "status": "must be active or broken",
}
"""Pydantic's ``String should match pattern '...'``, said as the rule, by field name."""


# -- problems ---------------------------------------------------------------------------


class _Problems:
    """Every problem found in one file, in the order found, without duplicates."""

    def __init__(self) -> None:
        self.errors: list[DataError] = []
        self.paths: set[str] = set()
        self._seen: set[DataError] = set()

    def add(self, path: str, message: str) -> None:
        error = DataError(path=path, message=message)
        if error not in self._seen:
            self._seen.add(error)
            self.errors.append(error)
            self.paths.add(path)

    def raise_if_any(self) -> None:
        """Raises: DataValidationError: when any problem was added."""
        if self.errors:
            raise DataValidationError(self.errors)


def _file_error(message: str) -> DataValidationError:
    return DataValidationError([DataError(path="file", message=message)])


def _describe(error: ErrorDetails) -> tuple[_Loc, str]:
    """Pydantic's error as (location, rule), moving a ``field: rule`` message onto the field."""
    loc, message = tuple(error["loc"]), error["msg"]
    if error["type"] == "missing":
        return loc, "is required"
    if error["type"] == "string_pattern_mismatch" and loc:
        name = loc[-2] if loc[-1] == "value" and len(loc) > 1 else loc[-1]
        return loc, _PATTERN_RULES.get(str(name), message)
    on_field = re.fullmatch(r"(?:Value error, )?([A-Za-z_][\w.]*): (.+)", message)
    if error["type"] == "value_error" and on_field:
        return loc + tuple(on_field[1].split(".")), on_field[2]
    return loc, message.removeprefix("Value error, ")


def _causes(error: ValidationError) -> list[ErrorDetails]:
    """Pydantic's errors without the "too short" a list reports when some of its items failed."""
    details = error.errors(include_url=False)
    locs = [tuple(e["loc"]) for e in details]

    def within(loc: _Loc) -> bool:
        return any(len(other) > len(loc) and other[: len(loc)] == loc for other in locs)

    return [e for e in details if e["type"] != "too_short" or not within(tuple(e["loc"]))]


def _cpf_problems(case_file: CaseFile) -> list[tuple[_Loc, str]]:
    """The CPFs whose check digits are wrong (rule R38; the model checks only the pattern)."""
    cpfs: list[tuple[_Loc, str]] = [(("case", "payer", "cpf"), case_file.case.payer.cpf)]
    cpfs += [(("beneficiaries", i, "cpf"), b.cpf) for i, b in enumerate(case_file.beneficiaries)]
    found = []
    for loc, cpf in cpfs:
        try:
            validate_cpf(cpf)
        except InvalidIdentifier as err:
            found.append((loc, str(err)))
    return found


def _validate(
    body: object, locate: Callable[[_Loc], tuple[str, str]], problems: _Problems
) -> CaseFile | None:
    """The CaseFile in ``body``, or ``None`` once its problems are added to ``problems``."""
    try:
        case_file = CaseFile.model_validate(body)
    except ValidationError as error:
        _report([_describe(e) for e in _causes(error)], locate, problems)
        return None
    found = _cpf_problems(case_file)
    _report(found, locate, problems)
    return None if found else case_file


def _report(
    found: Iterable[tuple[_Loc, str]],
    locate: Callable[[_Loc], tuple[str, str]],
    problems: _Problems,
) -> None:
    """Add model problems; one at a path a cell parser already reported is the same problem."""
    located = [(*locate(loc), message) for loc, message in found]
    for path, note, message in [item for item in located if item[0] not in problems.paths]:
        problems.add(path, f"{note}: {message}" if note else message)


# -- tables -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Row:
    sheet: str
    line: int
    """As a spreadsheet shows it: the header is line 1."""
    cells: Mapping[str, object]

    def path(self, column: str = "") -> str:
        return f"{self.sheet}[{self.line}]" + (f".{column}" if column else "")


@dataclass(frozen=True, slots=True)
class _Sheet:
    title: str
    columns: tuple[str, ...]
    rows: tuple[_Row, ...]


def _sheet(title: str, records: Iterable[Sequence[object]], problems: _Problems) -> _Sheet | None:
    """The sheet whose header is the first record; ``None`` when it has no header."""
    lines = iter(records)
    columns = tuple((_text(cell) or "").lower() for cell in next(lines, ()))
    if not any(columns):
        return None
    rows = []
    for line, record in enumerate(lines, start=2):
        cells: dict[str, object] = {}
        for index, value in enumerate(record):
            column = columns[index] if index < len(columns) else ""
            if column:
                cells[column] = value
            elif _text(value) is not None:
                letter = get_column_letter(index + 1)
                problems.add(f"{title}[{line}]", f"a value in column {letter}, which has no header")
        if any(_text(value) is not None for value in cells.values()):
            rows.append(_Row(title, line, cells))
    return _Sheet(title, tuple(c for c in columns if c), tuple(rows))


def _csv_sheets(data: bytes, problems: _Problems) -> dict[str, _Sheet]:
    """Raises: DataValidationError: the file is not UTF-8 text."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise _file_error("must be UTF-8 text") from err
    header = text.splitlines()[0] if text else ""
    delimiter = ";" if header.count(";") > header.count(",") else ","
    records = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    sheet = _sheet(_INSTALLMENTS, records, problems)
    return {_INSTALLMENTS: sheet} if sheet else {}


def _sheet_key(title: str) -> str:
    """``Internações `` -> ``internacoes``."""
    decomposed = unicodedata.normalize("NFKD", title.strip().lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _xlsx_sheets(data: bytes, problems: _Problems) -> dict[str, _Sheet]:
    """The installments sheet (``parcelas``, else the first) and the known extra sheets.

    Raises:
        DataValidationError: the file is not a workbook openpyxl can read.
    """
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError) as err:
        raise _file_error("not a readable .xlsx workbook") from err
    try:
        worksheets = workbook.worksheets
        titles = [_sheet_key(ws.title) for ws in worksheets]
        main = titles.index(_INSTALLMENTS) if _INSTALLMENTS in titles else 0
        sheets: dict[str, _Sheet] = {}
        for index, worksheet in enumerate(worksheets):
            kind = _INSTALLMENTS if index == main else titles[index]
            sheet = _sheet(worksheet.title, worksheet.values, problems)
            if sheet is None:
                continue
            if kind in sheets or kind not in {_INSTALLMENTS, *_EXTRA_SHEETS}:
                expected = ", ".join([_INSTALLMENTS, *_EXTRA_SHEETS])
                problems.add(worksheet.title, f"unknown or repeated sheet; expected {expected}")
                continue
            sheets[kind] = sheet
        return sheets
    finally:
        workbook.close()


def _check_columns(
    sheet: _Sheet, *, known: frozenset[str], required: frozenset[str], problems: _Problems
) -> None:
    seen: set[str] = set()
    for column in sheet.columns:
        path = f"{sheet.title}[1].{column}"
        if column in seen:
            problems.add(path, "column appears twice")
        elif column not in known:
            guess = difflib.get_close_matches(column, known, n=1)
            hint = f"did you mean {guess[0]}?" if guess else f"expected {', '.join(sorted(known))}"
            problems.add(path, f"unknown column; {hint}")
        seen.add(column)
    for column in sorted(required - seen):
        problems.add(f"{sheet.title}[1].{column}", "required column is missing")


def _check_all_columns(sheets: Mapping[str, _Sheet], problems: _Problems) -> None:
    """Raises: DataValidationError: naming every unknown, repeated or missing column."""
    for kind, sheet in sheets.items():
        if kind == _INSTALLMENTS:
            known = _REPEATED | frozenset(_INSTALLMENT_COLUMNS)
            _check_columns(sheet, known=known, required=_REQUIRED, problems=problems)
        else:
            extra = _EXTRA_SHEETS[kind]
            known = frozenset({"contract_id", *extra.columns})
            required = extra.required | {"contract_id"}
            _check_columns(sheet, known=known, required=required, problems=problems)
    problems.raise_if_any()


def _by_contract(
    rows: Iterable[_Row], problems: _Problems, *, known: Mapping[str, object] | None = None
) -> dict[str, list[_Row]]:
    """Rows grouped by ``contract_id`` in first-seen order; with ``known``, only its ids."""
    groups: dict[str, list[_Row]] = {}
    for row in rows:
        contract_id = _text(row.cells.get("contract_id"))
        if contract_id is None:
            problems.add(row.path("contract_id"), "is required")
        elif known is not None and contract_id not in known:
            problems.add(row.path("contract_id"), f"unknown contract {contract_id!r}")
        else:
            groups.setdefault(contract_id, []).append(row)
    return groups


def _check_repeated(rows: Sequence[_Row], problems: _Problems) -> None:
    first = rows[0]
    for row in rows[1:]:
        for column in first.cells.keys() & _REPEATED:
            if _text(row.cells.get(column)) != _text(first.cells.get(column)):
                problems.add(
                    row.path(column), f"differs from line {first.line} of the same contract"
                )


# -- contracts --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Origin:
    """The cell a CaseFile field was read from."""

    path: str
    note: str = ""
    """Said before the rule when the path alone is ambiguous (``entry 2``)."""


class _ContractInput:
    """One contract's rows as CaseFile input, remembering where each field came from."""

    def __init__(self, contract_id: str, problems: _Problems) -> None:
        self.contract_id = contract_id
        self.problems = problems
        self.body: dict[str, Any] = {"case": {}}
        self.origins: dict[_Loc, _Origin] = {}

    def fill(self, target: dict[str, Any], row: _Row, columns: _Columns, prefix: _Loc) -> None:
        for column, (where, parse) in columns.items():
            if column not in row.cells:
                continue
            self.origins[prefix + where] = _Origin(row.path(column))
            try:
                value = parse(row.cells[column])
            except _CellError as err:
                self.problems.add(row.path(column), str(err))
                continue
            if value is not None:
                node = target
                for key in where[:-1]:
                    node = node.setdefault(key, {})
                node[where[-1]] = value

    def items(self, field: str, rows: Sequence[_Row], columns: _Columns) -> None:
        """Fill ``case.<field>`` with one item per row."""
        items: list[dict[str, Any]] = []
        for index, row in enumerate(rows):
            self.origins[("case", field, index)] = _Origin(row.path())
            items.append({})
            self.fill(items[-1], row, columns, ("case", field, index))
        self.body["case"][field] = items

    def locate(self, loc: _Loc) -> tuple[str, str]:
        """The cell (and note) a pydantic error location points to."""
        for end in range(len(loc), 0, -1):
            origin = self.origins.get(loc[:end])
            if origin is not None:
                rest = error_path(loc[end:]) if loc[end:] else ""
                return origin.path, " ".join(part for part in (origin.note, rest) if part)
        return f"contracts[{self.contract_id}].{error_path(loc)}", ""


def _contract_columns(row: _Row, problems: _Problems) -> _Columns:
    """The contract columns to read: a contact's columns only when the contact is present."""
    absent = {kind for kind, key in _CONTACT_KEYS.items() if _text(row.cells.get(key)) is None}
    columns = {}
    for column, (where, parse) in _CONTRACT_COLUMNS.items():
        if where[0] == "contacts" and where[1] in absent:
            if _text(row.cells.get(column)) is not None:
                problems.add(row.path(column), f"given without {_CONTACT_KEYS[where[1]]}")
            continue
        columns[column] = (where, parse)
    return columns


def _beneficiaries(contract: _ContractInput, row: _Row) -> list[dict[str, str]]:
    """``Name:CPF:relationship|...``; when empty, the payer alone as ``titular``."""
    text = _text(row.cells.get("beneficiaries"))
    if text is None:
        payer = contract.body["case"].get("payer", {})
        contract.origins[("beneficiaries", 0, "name")] = _Origin(row.path("payer_name"))
        contract.origins[("beneficiaries", 0, "cpf")] = _Origin(row.path("payer_cpf"))
        titular = {key: payer[key] for key in ("name", "cpf") if key in payer}
        return [titular | {"relationship": "titular"}]
    path = row.path("beneficiaries")
    contract.origins[("beneficiaries",)] = _Origin(path)
    entries: list[dict[str, str]] = []
    for number, entry in enumerate(text.split("|"), start=1):
        parts = [part.strip() for part in entry.split(":")]
        if len(parts) != 3:
            contract.problems.add(path, f"entry {number} must be Name:CPF:relationship")
            continue
        contract.origins[("beneficiaries", len(entries))] = _Origin(path, f"entry {number}")
        fields = zip(("name", "cpf", "relationship"), parts, strict=True)
        entries.append({key: value for key, value in fields if value})
    return entries


def _contract_input(
    contract: _ContractInput, rows: Sequence[_Row], extras: Mapping[str, Sequence[_Row]]
) -> dict[str, Any]:
    first = rows[0]
    contract.fill(contract.body, first, _contract_columns(first, contract.problems), ())
    contract.items("installments", rows, _INSTALLMENT_COLUMNS)
    for kind, extra_rows in extras.items():
        extra = _EXTRA_SHEETS[kind]
        contract.items(extra.field, extra_rows, extra.columns)
    contract.body["beneficiaries"] = _beneficiaries(contract, first)
    return contract.body


def _read_sheets(sheets: Mapping[str, _Sheet], problems: _Problems) -> list[CaseFile]:
    """Raises: DataValidationError: with every problem in the sheets."""
    installments = sheets.get(_INSTALLMENTS)
    if installments is None or not installments.rows:
        problems.add("file", "no rows")
        raise DataValidationError(problems.errors)
    _check_all_columns(sheets, problems)
    contracts = _by_contract(installments.rows, problems)
    extras = {
        kind: _by_contract(sheet.rows, problems, known=contracts)
        for kind, sheet in sheets.items()
        if kind != _INSTALLMENTS
    }
    cases = []
    for contract_id, rows in contracts.items():
        _check_repeated(rows, problems)
        contract = _ContractInput(contract_id, problems)
        own_extras = {kind: groups.get(contract_id, []) for kind, groups in extras.items()}
        body = _contract_input(contract, rows, own_extras)
        case_file = _validate(body, contract.locate, problems)
        if case_file is not None:
            cases.append(case_file)
    problems.raise_if_any()
    return cases


# -- JSON and entry point ---------------------------------------------------------------


def _json_locator(base: _Loc) -> Callable[[_Loc], tuple[str, str]]:
    return lambda loc: (error_path(base + loc), "")


def _read_json(data: bytes) -> list[CaseFile]:
    """Raises: DataValidationError: not JSON, no cases, or any case invalid."""
    try:
        document = json.loads(data)
    except ValueError as err:
        raise _file_error(f"not valid JSON: {err}") from err
    is_list = isinstance(document, list)
    items = document if is_list else [document]
    if not items:
        raise _file_error("no cases")
    problems, cases = _Problems(), []
    seen: dict[str, int] = {}
    for index, item in enumerate(items):
        base: _Loc = ("cases", index) if is_list else ()
        case_file = _validate(item, _json_locator(base), problems)
        if case_file is None:
            continue
        first = seen.setdefault(case_file.case.contract.id, index)
        if first != index:
            path = error_path((*base, "case", "contract", "id"))
            problems.add(path, f"the same contract as cases[{first}]")
        cases.append(case_file)
    problems.raise_if_any()
    return cases


def read_cases(data: bytes, *, filename: str) -> list[CaseFile]:
    """The delinquency cases in an operator's file, in the order the file first names them.

    Parameters:
        data: the file's content; capping its size is the caller's job.
        filename: its name, whose extension (``.csv``, ``.xlsx``, ``.json``, any case)
            picks the format.

    Returns:
        One :class:`CaseFile` per contract.

    Raises:
        DataValidationError: every problem in the file, each with a path such as
            ``parcelas[3].due_date`` (sheet, line as a spreadsheet shows it, column),
            ``file`` for the file as a whole, or ``cases[0].case.payer.cpf`` in JSON.
    """
    extension = PurePath(filename).suffix.lower()
    if extension not in ACCEPTED_EXTENSIONS:
        accepted = ", ".join(ACCEPTED_EXTENSIONS)
        raise _file_error(f"unsupported file type {extension or filename!r}; accepted: {accepted}")
    if not data.removeprefix(b"\xef\xbb\xbf").strip():
        raise _file_error("no rows")
    if extension == ".json":
        return _read_json(data)
    problems = _Problems()
    reader = _csv_sheets if extension == ".csv" else _xlsx_sheets
    return _read_sheets(reader(data, problems), problems)
