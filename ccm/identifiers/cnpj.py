"""CNPJ, the Brazilian company number, numeric and alphanumeric (rule R39).

From July 2026 new CNPJs may carry letters in their first 12 positions; the check
digits stay numeric. python-stdnum (2.x) implements both forms.
"""

import re

from stdnum.br import cnpj as stdnum_cnpj

from ccm.identifiers.errors import InvalidIdentifier, stdnum_check

__all__ = ["format_cnpj", "normalize_cnpj", "validate_cnpj"]

_SHAPE = re.compile(r"^[0-9A-Z]{12}[0-9]{2}$")


def normalize_cnpj(value: str) -> str:
    """Uppercase and drop the mask characters ``. / -`` and spaces (no validation)."""
    return re.sub(r"[./\-\s]", "", value).upper()


def validate_cnpj(value: str) -> str:
    """Validate a CNPJ and return its 14 characters (always text, never an integer).

    Raises:
        InvalidIdentifier: wrong shape or wrong check digits.
    """
    compact = normalize_cnpj(value)
    if not _SHAPE.match(compact):
        raise InvalidIdentifier("CNPJ must have 12 letters or digits followed by 2 check digits")
    stdnum_check(stdnum_cnpj.validate, compact, name="CNPJ", digits="check digits")
    return compact


def format_cnpj(value: str) -> str:
    """Format as ``XX.XXX.XXX/XXXX-NN``."""
    c = normalize_cnpj(value)
    return f"{c[:2]}.{c[2:5]}.{c[5:8]}/{c[8:12]}-{c[12:]}"
