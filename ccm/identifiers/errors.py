"""The error every identifier validator raises."""

__all__ = ["InvalidIdentifier"]


class InvalidIdentifier(ValueError):
    """An identifier failed a format or check-digit rule.

    The message is the rule, phrased for the person who typed the value
    (e.g. ``invalid CPF check digits``), so callers can prefix it with the field path.
    """
