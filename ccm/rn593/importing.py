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
import unicodedata
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

import openpyxl
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException

from ccm.errors import DataValidationError
from ccm.rn593.casefile import CaseFile
from ccm.rn593.import_columns import (
    CONTACT_KEYS,
    CONTRACT_COLUMNS,
    EXTRA_SHEETS,
    INSTALLMENT_COLUMNS,
    INSTALLMENTS,
    REPEATED,
    REQUIRED,
    CellError,
    Columns,
    cell_text,
)
from ccm.rn593.import_problems import Loc, Problems, file_error, validate_case
from ccm.rn593.reading import error_path

__all__ = ["ACCEPTED_EXTENSIONS", "read_cases"]

ACCEPTED_EXTENSIONS = (".csv", ".xlsx", ".json")
"""File name extensions :func:`read_cases` reads (compared case-insensitively)."""


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


def _sheet(title: str, records: Iterable[Sequence[object]], problems: Problems) -> _Sheet | None:
    """The sheet whose header is the first record; ``None`` when it has no header."""
    lines = iter(records)
    columns = tuple((cell_text(cell) or "").lower() for cell in next(lines, ()))
    if not any(columns):
        return None
    rows = []
    for line, record in enumerate(lines, start=2):
        cells: dict[str, object] = {}
        for index, value in enumerate(record):
            column = columns[index] if index < len(columns) else ""
            if column:
                cells[column] = value
            elif cell_text(value) is not None:
                letter = get_column_letter(index + 1)
                problems.add(f"{title}[{line}]", f"a value in column {letter}, which has no header")
        if any(cell_text(value) is not None for value in cells.values()):
            rows.append(_Row(title, line, cells))
    return _Sheet(title, tuple(c for c in columns if c), tuple(rows))


def _csv_sheets(data: bytes, problems: Problems) -> dict[str, _Sheet]:
    """Raises: DataValidationError: the file is not UTF-8 text."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise file_error("must be UTF-8 text") from err
    header = text.splitlines()[0] if text else ""
    delimiter = ";" if header.count(";") > header.count(",") else ","
    records = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    sheet = _sheet(INSTALLMENTS, records, problems)
    return {INSTALLMENTS: sheet} if sheet else {}


def _sheet_key(title: str) -> str:
    """``Internações `` -> ``internacoes``."""
    decomposed = unicodedata.normalize("NFKD", title.strip().lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _xlsx_sheets(data: bytes, problems: Problems) -> dict[str, _Sheet]:
    """The installments sheet (``parcelas``, else the first) and the known extra sheets.

    Raises:
        DataValidationError: the file is not a workbook openpyxl can read.
    """
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError) as err:
        raise file_error("not a readable .xlsx workbook") from err
    try:
        worksheets = workbook.worksheets
        titles = [_sheet_key(ws.title) for ws in worksheets]
        main = titles.index(INSTALLMENTS) if INSTALLMENTS in titles else 0
        sheets: dict[str, _Sheet] = {}
        for index, worksheet in enumerate(worksheets):
            kind = INSTALLMENTS if index == main else titles[index]
            sheet = _sheet(worksheet.title, worksheet.values, problems)
            if sheet is None:
                continue
            if kind in sheets or kind not in {INSTALLMENTS, *EXTRA_SHEETS}:
                expected = ", ".join([INSTALLMENTS, *EXTRA_SHEETS])
                problems.add(worksheet.title, f"unknown or repeated sheet; expected {expected}")
                continue
            sheets[kind] = sheet
        return sheets
    finally:
        workbook.close()


def _check_columns(
    sheet: _Sheet, *, known: frozenset[str], required: frozenset[str], problems: Problems
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


def _check_all_columns(sheets: Mapping[str, _Sheet], problems: Problems) -> None:
    """Raises: DataValidationError: naming every unknown, repeated or missing column."""
    for kind, sheet in sheets.items():
        if kind == INSTALLMENTS:
            known = REPEATED | frozenset(INSTALLMENT_COLUMNS)
            _check_columns(sheet, known=known, required=REQUIRED, problems=problems)
        else:
            extra = EXTRA_SHEETS[kind]
            known = frozenset({"contract_id", *extra.columns})
            required = extra.required | {"contract_id"}
            _check_columns(sheet, known=known, required=required, problems=problems)
    problems.raise_if_any()


def _by_contract(
    rows: Iterable[_Row], problems: Problems, *, known: Mapping[str, object] | None = None
) -> dict[str, list[_Row]]:
    """Rows grouped by ``contract_id`` in first-seen order; with ``known``, only its ids."""
    groups: dict[str, list[_Row]] = {}
    for row in rows:
        contract_id = cell_text(row.cells.get("contract_id"))
        if contract_id is None:
            problems.add(row.path("contract_id"), "is required")
        elif known is not None and contract_id not in known:
            problems.add(row.path("contract_id"), f"unknown contract {contract_id!r}")
        else:
            groups.setdefault(contract_id, []).append(row)
    return groups


def _check_repeated(rows: Sequence[_Row], problems: Problems) -> None:
    first = rows[0]
    for row in rows[1:]:
        for column in first.cells.keys() & REPEATED:
            if cell_text(row.cells.get(column)) != cell_text(first.cells.get(column)):
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

    def __init__(self, contract_id: str, problems: Problems) -> None:
        self.contract_id = contract_id
        self.problems = problems
        self.body: dict[str, Any] = {"case": {}}
        self.origins: dict[Loc, _Origin] = {}

    def fill(self, target: dict[str, Any], row: _Row, columns: Columns, prefix: Loc) -> None:
        for column, (where, parse) in columns.items():
            if column not in row.cells:
                continue
            self.origins[prefix + where] = _Origin(row.path(column))
            try:
                value = parse(row.cells[column])
            except CellError as err:
                self.problems.add(row.path(column), str(err))
                continue
            if value is not None:
                node = target
                for key in where[:-1]:
                    node = node.setdefault(key, {})
                node[where[-1]] = value

    def items(self, field: str, rows: Sequence[_Row], columns: Columns) -> None:
        """Fill ``case.<field>`` with one item per row."""
        items: list[dict[str, Any]] = []
        for index, row in enumerate(rows):
            self.origins[("case", field, index)] = _Origin(row.path())
            items.append({})
            self.fill(items[-1], row, columns, ("case", field, index))
        self.body["case"][field] = items

    def locate(self, loc: Loc) -> tuple[str, str]:
        """The cell (and note) a pydantic error location points to."""
        for end in range(len(loc), 0, -1):
            origin = self.origins.get(loc[:end])
            if origin is not None:
                rest = error_path(loc[end:]) if loc[end:] else ""
                return origin.path, " ".join(part for part in (origin.note, rest) if part)
        return f"contracts[{self.contract_id}].{error_path(loc)}", ""


def _contract_columns(row: _Row, problems: Problems) -> Columns:
    """The contract columns to read: a contact's columns only when the contact is present."""
    absent = {kind for kind, key in CONTACT_KEYS.items() if cell_text(row.cells.get(key)) is None}
    columns = {}
    for column, (where, parse) in CONTRACT_COLUMNS.items():
        if where[0] == "contacts" and where[1] in absent:
            if cell_text(row.cells.get(column)) is not None:
                problems.add(row.path(column), f"given without {CONTACT_KEYS[where[1]]}")
            continue
        columns[column] = (where, parse)
    return columns


def _beneficiaries(contract: _ContractInput, row: _Row) -> list[dict[str, str]]:
    """``Name:CPF:relationship|...``; when empty, the payer alone as ``titular``."""
    text = cell_text(row.cells.get("beneficiaries"))
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
    contract.items("installments", rows, INSTALLMENT_COLUMNS)
    for kind, extra_rows in extras.items():
        extra = EXTRA_SHEETS[kind]
        contract.items(extra.field, extra_rows, extra.columns)
    contract.body["beneficiaries"] = _beneficiaries(contract, first)
    return contract.body


def _read_sheets(sheets: Mapping[str, _Sheet], problems: Problems) -> list[CaseFile]:
    """Raises: DataValidationError: with every problem in the sheets."""
    installments = sheets.get(INSTALLMENTS)
    if installments is None or not installments.rows:
        problems.add("file", "no rows")
        raise DataValidationError(problems.errors)
    _check_all_columns(sheets, problems)
    contracts = _by_contract(installments.rows, problems)
    extras = {
        kind: _by_contract(sheet.rows, problems, known=contracts)
        for kind, sheet in sheets.items()
        if kind != INSTALLMENTS
    }
    cases = []
    for contract_id, rows in contracts.items():
        _check_repeated(rows, problems)
        contract = _ContractInput(contract_id, problems)
        own_extras = {kind: groups.get(contract_id, []) for kind, groups in extras.items()}
        body = _contract_input(contract, rows, own_extras)
        case_file = validate_case(body, contract.locate, problems)
        if case_file is not None:
            cases.append(case_file)
    problems.raise_if_any()
    return cases


# -- JSON and entry point ---------------------------------------------------------------


def _json_locator(base: Loc) -> Callable[[Loc], tuple[str, str]]:
    return lambda loc: (error_path(base + loc), "")


def _read_json(data: bytes) -> list[CaseFile]:
    """Raises: DataValidationError: not JSON, no cases, or any case invalid."""
    try:
        document = json.loads(data)
    except ValueError as err:
        raise file_error(f"not valid JSON: {err}") from err
    is_list = isinstance(document, list)
    items = document if is_list else [document]
    if not items:
        raise file_error("no cases")
    problems, cases = Problems(), []
    seen: dict[str, int] = {}
    for index, item in enumerate(items):
        base: Loc = ("cases", index) if is_list else ()
        case_file = validate_case(item, _json_locator(base), problems)
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
        raise file_error(f"unsupported file type {extension or filename!r}; accepted: {accepted}")
    if not data.removeprefix(b"\xef\xbb\xbf").strip():
        raise file_error("no rows")
    if extension == ".json":
        return _read_json(data)
    problems = Problems()
    reader = _csv_sheets if extension == ".csv" else _xlsx_sheets
    return _read_sheets(reader(data, problems), problems)
