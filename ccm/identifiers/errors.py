"""The error every identifier validator raises, and its translation from python-stdnum."""

from collections.abc import Callable

from stdnum import exceptions as stdnum_errors

__all__ = ["InvalidIdentifier", "stdnum_check"]


class InvalidIdentifier(ValueError):
    """An identifier failed a format or check-digit rule.

    The message is the rule, phrased for the person who typed the value
    (e.g. ``invalid CPF check digits``), so callers can prefix it with the field path.
    """


def stdnum_check(validate: Callable[[str], object], value: str, *, name: str, digits: str) -> None:
    """Run a python-stdnum ``validate`` and raise its failure as :class:`InvalidIdentifier`.

    ``digits`` names the check digits in the message ("check digits", "check digit").
    """
    try:
        validate(value)
    except stdnum_errors.InvalidChecksum as err:
        raise InvalidIdentifier(f"invalid {name} {digits}") from err
    except stdnum_errors.ValidationError as err:
        raise InvalidIdentifier(f"invalid {name}: {err}") from err
