"""NIF, the Portuguese taxpayer number, for insurer letters (pt-PT)."""

from stdnum import exceptions as stdnum_errors
from stdnum.pt import nif as stdnum_nif

from ccm.identifiers.errors import InvalidIdentifier

__all__ = ["validate_nif"]


def validate_nif(value: str) -> str:
    """Validate a NIF and return its 9 digits.

    Raises:
        InvalidIdentifier: wrong length or wrong check digit.
    """
    compact = "".join(value.split())
    if not compact.isdigit() or len(compact) != 9:
        raise InvalidIdentifier("NIF must have 9 digits")
    try:
        stdnum_nif.validate(compact)
    except stdnum_errors.InvalidChecksum as err:
        raise InvalidIdentifier("invalid NIF check digit") from err
    except stdnum_errors.ValidationError as err:
        raise InvalidIdentifier(f"invalid NIF: {err}") from err
    return compact
