"""CPF, the Brazilian individual taxpayer number (rule R38 in domain.md).

Check digits come from python-stdnum; R38 adds that eleven equal digits are invalid,
which stdnum accepts because they pass the checksum.
"""

from stdnum.br import cpf as stdnum_cpf

from ccm.identifiers.errors import InvalidIdentifier, stdnum_check

__all__ = ["format_cpf", "mask_cpf", "normalize_cpf", "validate_cpf"]

_DIGITS = "0123456789"
"""ASCII digits only: str.isdigit() also accepts full-width and other Unicode digits."""


def normalize_cpf(value: str) -> str:
    """Return the 11 digits of ``value`` without punctuation (no validation)."""
    return "".join(ch for ch in value if ch in _DIGITS)


def validate_cpf(value: str) -> str:
    """Validate a CPF and return its 11 digits.

    Raises:
        InvalidIdentifier: wrong length, non-digits, all digits equal, or wrong check digits.
    """
    digits = normalize_cpf(value)
    if any(ch not in _DIGITS and ch not in ".- " for ch in value):
        raise InvalidIdentifier("CPF must contain only digits, '.', '-'")
    if len(digits) != 11:
        raise InvalidIdentifier("CPF must have 11 digits")
    if len(set(digits)) == 1:
        raise InvalidIdentifier("invalid CPF: all digits are equal")
    stdnum_check(stdnum_cpf.validate, digits, name="CPF", digits="check digits")
    return digits


def format_cpf(value: str) -> str:
    """Format 11 digits as ``000.000.000-00``."""
    d = normalize_cpf(value)
    return f"{d[:3]}.{d[3:6]}.{d[6:9]}-{d[9:]}"


def mask_cpf(value: str) -> str:
    """Mask a CPF for short channels as ``***.444.777-**`` (rule R46)."""
    d = normalize_cpf(value)
    return f"***.{d[3:6]}.{d[6:9]}-**"
