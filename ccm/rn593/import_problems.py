"""The problems found in an imported file, each said as a rule at the cell it came from.

Every problem of one file is collected once; pydantic's errors on the ``CaseFile`` input and
wrong CPF check digits (rule R38) become problems at the cell or JSON path they came from.
"""

import re
from collections.abc import Callable, Iterable

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from ccm.errors import DataError, DataValidationError
from ccm.identifiers import InvalidIdentifier, validate_cpf
from ccm.rn593.casefile import CaseFile

__all__ = ["Loc", "Problems", "file_error", "validate_case"]

Loc = tuple[int | str, ...]

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


class Problems:
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


def file_error(message: str) -> DataValidationError:
    return DataValidationError([DataError(path="file", message=message)])


def _describe(error: ErrorDetails) -> tuple[Loc, str]:
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

    def within(loc: Loc) -> bool:
        return any(len(other) > len(loc) and other[: len(loc)] == loc for other in locs)

    return [e for e in details if e["type"] != "too_short" or not within(tuple(e["loc"]))]


def _cpf_problems(case_file: CaseFile) -> list[tuple[Loc, str]]:
    """The CPFs whose check digits are wrong (rule R38; the model checks only the pattern)."""
    cpfs: list[tuple[Loc, str]] = [(("case", "payer", "cpf"), case_file.case.payer.cpf)]
    cpfs += [(("beneficiaries", i, "cpf"), b.cpf) for i, b in enumerate(case_file.beneficiaries)]
    found = []
    for loc, cpf in cpfs:
        try:
            validate_cpf(cpf)
        except InvalidIdentifier as err:
            found.append((loc, str(err)))
    return found


def validate_case(
    body: object, locate: Callable[[Loc], tuple[str, str]], problems: Problems
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
    found: Iterable[tuple[Loc, str]],
    locate: Callable[[Loc], tuple[str, str]],
    problems: Problems,
) -> None:
    """Add model problems; one at a path a cell parser already reported is the same problem."""
    located = [(*locate(loc), message) for loc, message in found]
    for path, note, message in [item for item in located if item[0] not in problems.paths]:
        problems.add(path, f"{note}: {message}" if note else message)
