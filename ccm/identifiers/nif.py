"""NIF, the Portuguese taxpayer number, for insurer letters (pt-PT)."""

from stdnum.pt import nif as stdnum_nif

from ccm.identifiers.errors import InvalidIdentifier, stdnum_check

__all__ = ["validate_nif"]


def validate_nif(value: str) -> str:
    """Validate a NIF and return its 9 digits.

    Raises:
        InvalidIdentifier: wrong length or wrong check digit.
    """
    compact = "".join(value.split())
    if not compact.isdigit() or len(compact) != 9:
        raise InvalidIdentifier("NIF must have 9 digits")
    stdnum_check(stdnum_nif.validate, compact, name="NIF", digits="check digit")
    return compact
