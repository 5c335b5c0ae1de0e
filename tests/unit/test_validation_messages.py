"""Schema errors read as 'path: rule', whatever keyword produced them."""

from typing import Any

import pytest

from ccm.composition.validation import format_path, schema_errors, validator_for


@pytest.mark.parametrize(
    ("schema", "data", "expected"),
    [
        ({"properties": {"a": False}}, {"a": 1}, "a: is not allowed here"),
        ({"not": {"required": ["refund"]}}, {"refund": {"x": 1}}, "refund: is not allowed here"),
        (
            {"properties": {"n": {"type": "integer", "minimum": 2009}}},
            {"n": 1999},
            "n: breaks minimum 2009",
        ),
        (
            {"properties": {"d": {"type": "string", "format": "date"}}},
            {"d": "2026-02-30"},
            "d: is not a real calendar date",
        ),
        (
            {"properties": {"m": {"type": "string", "format": "money"}}},
            {"m": "12,30"},
            'm: must be money as a decimal string with 2 places, e.g. "1234.50"',
        ),
        (
            {
                "properties": {
                    "s": {"type": "string", "pattern": "^[A-Z]+$", "x-rule": "capitals only"}
                }
            },
            {"s": "abc"},
            "s: capitals only",
        ),
    ],
)
def test_messages(schema: dict[str, Any], data: Any, expected: str) -> None:
    errors = schema_errors(validator_for(schema), data)
    assert [str(e) for e in errors] == [expected]


def test_long_instances_are_not_quoted_back() -> None:
    schema = {"oneOf": [{"required": ["a"]}, {"required": ["b"]}]}
    data = {"a": "x" * 500, "b": "y" * 500}
    (error,) = schema_errors(validator_for(schema), data)
    assert len(str(error)) < 200 and "xxxx" not in str(error)


def test_paths() -> None:
    assert format_path(["installments", 2, "due_date"]) == "installments[2].due_date"
    assert format_path([]) == ""
