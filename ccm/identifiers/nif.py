"""NIF, the Portuguese taxpayer number, for insurer letters (pt-PT)."""

import re

from stdnum.pt import nif as stdnum_nif

from ccm.identifiers.errors import InvalidIdentifier, stdnum_check

__all__ = ["validate_nif"]


def validate_nif(value: str) -> str:
    """Validate a NIF and return its 9 digits.

    Raises:
        InvalidIdentifier: wrong length or wrong check digit.
    """
    compact = "".join(value.split())
    if not re.fullmatch(r"[0-9]{9}", compact):
        raise InvalidIdentifier("NIF must have 9 digits")
    stdnum_check(stdnum_nif.validate, compact, name="NIF", digits="check digit")
    return compact
