"""UPU S10 tracking codes used by Correios (rule R34) and CTT.

``RA473124829BR``: two service letters, an 8-digit serial, a check digit, a country code.
"""

import re

from ccm.identifiers.errors import InvalidIdentifier

__all__ = ["make_tracking_code", "s10_check_digit", "validate_tracking_code"]

_SHAPE = re.compile(r"([A-Z]{2})([0-9]{8})([0-9])([A-Z]{2})")
_WEIGHTS = (8, 6, 4, 2, 3, 5, 9, 7)


def s10_check_digit(serial: str) -> int:
    """Return the S10 check digit of an 8-digit serial number.

    Raises:
        InvalidIdentifier: the serial is not 8 digits.
    """
    if not re.fullmatch(r"[0-9]{8}", serial):
        raise InvalidIdentifier("S10 serial must have 8 digits")
    remainder = sum(int(d) * w for d, w in zip(serial, _WEIGHTS, strict=True)) % 11
    if remainder == 0:
        return 5
    if remainder == 1:
        return 0
    return 11 - remainder


def make_tracking_code(service: str, serial: int, country: str = "BR") -> str:
    """Build a tracking code from a service prefix (e.g. ``RB``) and a serial number."""
    digits = f"{serial:08d}"
    return f"{service}{digits}{s10_check_digit(digits)}{country}"


def validate_tracking_code(code: str, *, domestic_country: str | None = "BR") -> str:
    """Validate an S10 code; when ``domestic_country`` is set, require that suffix.

    Raises:
        InvalidIdentifier: wrong shape, wrong country suffix or wrong check digit.
    """
    match = _SHAPE.fullmatch(code.strip().upper())
    if match is None:
        raise InvalidIdentifier("tracking code must be 2 letters, 9 digits and 2 letters")
    _, serial, check, country = match.groups()
    if domestic_country and country != domestic_country:
        raise InvalidIdentifier(f"tracking code must end in {domestic_country}")
    if int(check) != s10_check_digit(serial):
        raise InvalidIdentifier("invalid tracking code check digit")
    return match.group(0)
