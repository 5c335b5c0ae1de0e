"""Signing errors: :class:`SigningError` (from ccm) and its timestamp subclass."""

from ccm.errors import SigningError

__all__ = ["SigningError", "TimestampError"]


class TimestampError(SigningError):
    """The timestamp authority did not answer or answered with an unusable token."""
