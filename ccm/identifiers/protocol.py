"""ANS service protocol numbers (RN 395 art. 8, now RN 623; rule R25).

Every contact gets a protocol number as its first act. The layout is not verified
(domain.md open question 5): the default is the commonly cited 20 digits, the
operator's 6-digit ANS registration + ``YYYYMMDD`` + a 6-digit sequence that restarts
daily. Both the layout and the validating pattern are configuration, and validation
can be switched off; callers store the protocol as an opaque string.
"""

import re
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from ccm.identifiers.errors import InvalidIdentifier

__all__ = ["DEFAULT_LAYOUT", "DEFAULT_PATTERN", "ProtocolFormat", "ProtocolIssuer", "SequenceStore"]

DEFAULT_LAYOUT = "{ans}{date:%Y%m%d}{seq:06d}"
DEFAULT_PATTERN = r"^\d{6}(\d{8})\d{6}$"


class SequenceStore(Protocol):
    """Hands out gap-free, strictly increasing numbers per scope and day."""

    def next_value(self, scope: str, day: date) -> int:
        """Return the next number (starting at 1) for ``scope`` on ``day``.

        Raises:
            OSError or a database error when the store cannot be written.
        """
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class ProtocolFormat:
    """How protocol numbers are laid out and checked."""

    layout: str = DEFAULT_LAYOUT
    """``str.format`` layout with the fields ``ans``, ``date`` and ``seq``."""
    pattern: str | None = DEFAULT_PATTERN
    """Regular expression a valid protocol matches; ``None`` turns validation off."""
    max_sequence: int = 999_999

    def format(self, *, ans_registration: str, day: date, sequence: int) -> str:
        """Lay out one protocol number.

        Raises:
            InvalidIdentifier: the sequence is exhausted for the day, or the result
                does not match :attr:`pattern`.
        """
        if not 1 <= sequence <= self.max_sequence:
            raise InvalidIdentifier(
                f"protocol sequence {sequence} is outside 1..{self.max_sequence} for {day}"
            )
        value = self.layout.format(ans=ans_registration, date=day, seq=sequence)
        return self.validate(value)

    def validate(self, value: str) -> str:
        """Return ``value`` if it matches :attr:`pattern` (always, when that is ``None``).

        Raises:
            InvalidIdentifier: the value does not match, or its embedded date is impossible.
        """
        if self.pattern is None:
            return value
        match = re.fullmatch(self.pattern, value, re.ASCII)
        if match is None:
            raise InvalidIdentifier(f"protocol number does not match {self.pattern}")
        if match.groups():
            embedded = match.group(1)
            try:
                date(int(embedded[:4]), int(embedded[4:6]), int(embedded[6:8]))
            except ValueError as err:
                raise InvalidIdentifier("protocol number holds an impossible date") from err
        return value


class ProtocolIssuer:
    """Issues protocol numbers from a daily sequence per operator."""

    def __init__(self, *, layout: ProtocolFormat, store: SequenceStore) -> None:
        self._layout = layout
        self._store = store

    def issue(self, *, ans_registration: str, day: date) -> str:
        """Return a new protocol number for ``ans_registration`` on ``day``.

        Raises:
            InvalidIdentifier: the day's sequence is exhausted.
        """
        sequence = self._store.next_value(f"ans-protocol:{ans_registration}", day)
        return self._layout.format(ans_registration=ans_registration, day=day, sequence=sequence)
