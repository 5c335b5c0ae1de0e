"""Reading ``CASE.json``: every problem named by its path (``installments[0].due_date``)."""

import json
from typing import Any

from pydantic import ValidationError

from ccm.errors import DataError, DataValidationError
from ccm.rn593.case import Case

__all__ = ["case_schema", "error_path", "read_case"]


def error_path(location: tuple[int | str, ...]) -> str:
    """``("installments", 0, "due_date")`` -> ``installments[0].due_date``."""
    path = ""
    for part in location:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "case"


def read_case(text: str | bytes) -> Case:
    """The case in ``text`` (JSON).

    Raises:
        DataValidationError: naming each wrong field and the rule it breaks.
    """
    try:
        return Case.model_validate_json(text)
    except ValidationError as error:
        problems = [
            DataError(path=error_path(tuple(e["loc"])), message=str(e["msg"]))
            for e in error.errors(include_url=False)
        ]
        raise DataValidationError(problems) from None


def case_schema() -> dict[str, Any]:
    """The published JSON Schema of ``CASE.json``."""
    schema = Case.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    ordered: dict[str, Any] = json.loads(json.dumps(schema, sort_keys=True))
    return ordered
