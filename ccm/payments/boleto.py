"""Boleto bancário: the 44-digit barcode and the 47-digit "linha digitável" (R41, R42).

Barcode: bank(3) currency(1) general DV(1) due-date factor(4) amount in cents(10)
free field(25). The line splits the same digits into three fields with mod-10 check
digits, the general DV, and factor+amount. The due-date factor reached 9999 on
2025-02-21 and restarted at 1000 on 2025-02-22; decoding picks the era nearest to a
reference date, as banks do.
"""

import re
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

__all__ = ["Boleto", "InvalidBoleto", "due_date_factor", "factor_to_date"]

_OLD_BASE = date(1997, 10, 7)
_NEW_BASE = date(2025, 2, 22)
_NEW_ERA_FIRST_FACTOR = 1000


class InvalidBoleto(ValueError):
    """A boleto line or barcode breaks the Febraban layout or a check digit."""


def due_date_factor(due: date) -> str:
    """Return the 4-digit due-date factor for ``due``.

    Raises:
        InvalidBoleto: the date is before the first factor of the old era.
    """
    if due >= _NEW_BASE:
        factor = _NEW_ERA_FIRST_FACTOR + (due - _NEW_BASE).days
    else:
        factor = (due - _OLD_BASE).days
    if not 1000 <= factor <= 9999:
        raise InvalidBoleto(f"due date {due.isoformat()} has no due-date factor")
    return f"{factor:04d}"


def factor_to_date(factor: str, *, near: date) -> date | None:
    """Decode a factor to the due date nearest to ``near``; ``0000`` means no due date."""
    value = int(factor)
    if value == 0:
        return None
    candidates = [_NEW_BASE + timedelta(days=value - _NEW_ERA_FIRST_FACTOR)]
    if value >= 1000:
        candidates.append(_OLD_BASE + timedelta(days=value))
    return min(candidates, key=lambda d: abs((d - near).days))


def _mod10(digits: str) -> int:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        product = int(ch) * (2 if i % 2 == 0 else 1)
        total += product // 10 + product % 10
    return (10 - total % 10) % 10


def _mod11(digits: str) -> int:
    total = sum(int(ch) * (2 + i % 8) for i, ch in enumerate(reversed(digits)))
    dv = 11 - total % 11
    return 1 if dv in (0, 1, 10, 11) else dv


def _only_digits(value: str, length: int, what: str) -> str:
    digits = "".join(ch for ch in value if not ch.isspace() and ch != ".")
    if len(digits) != length or any(ch not in "0123456789" for ch in digits):
        raise InvalidBoleto(f"{what} must have {length} digits")
    return digits


@dataclass(frozen=True, slots=True, kw_only=True)
class Boleto:
    """The content of a boleto's barcode."""

    bank: str
    """Febraban bank code, 3 digits (e.g. ``033`` Santander, ``341`` Itaú)."""
    currency: str = "9"
    factor: str
    """Due-date factor, ``0000`` when the boleto has no due date."""
    amount: Decimal
    free_field: str
    """25 digits whose layout belongs to the issuing bank."""

    @classmethod
    def build(cls, *, bank: str, due: date | None, amount: Decimal, free_field: str) -> "Boleto":
        """Build a boleto, checking the shape of every part.

        Raises:
            InvalidBoleto: a part of the wrong size or a negative amount.
        """
        if not re.fullmatch(r"[0-9]{3}", bank):
            raise InvalidBoleto("bank code must have 3 digits")
        if not re.fullmatch(r"[0-9]{25}", free_field):
            raise InvalidBoleto("free field must have 25 digits")
        if amount < 0 or amount >= Decimal("100000000"):
            raise InvalidBoleto("amount must be between 0 and 99,999,999.99")
        if amount != amount.quantize(Decimal("0.01")):
            raise InvalidBoleto("amount must have at most 2 decimal places")
        factor = due_date_factor(due) if due else "0000"
        return cls(bank=bank, factor=factor, amount=amount, free_field=free_field)

    @classmethod
    def from_barcode(cls, barcode: str) -> "Boleto":
        """Parse a 44-digit barcode and check its general DV.

        Raises:
            InvalidBoleto: wrong length or general check digit.
        """
        digits = _only_digits(barcode, 44, "boleto barcode")
        boleto = cls(
            bank=digits[:3],
            currency=digits[3],
            factor=digits[5:9],
            amount=Decimal(digits[9:19]).scaleb(-2),
            free_field=digits[19:],
        )
        if boleto.barcode != digits:
            raise InvalidBoleto("invalid boleto barcode check digit")
        return boleto

    @classmethod
    def from_line(cls, line: str) -> "Boleto":
        """Parse a 47-digit linha digitável and check its four check digits.

        Raises:
            InvalidBoleto: wrong length, a field check digit or the general check digit.
        """
        d = _only_digits(line, 47, "boleto line")
        fields = ((d[0:9], d[9]), (d[10:20], d[20]), (d[21:31], d[31]))
        for number, (body, dv) in enumerate(fields, start=1):
            if _mod10(body) != int(dv):
                raise InvalidBoleto(f"invalid check digit in field {number} of the boleto line")
        barcode = d[0:4] + d[32] + d[33:47] + d[4:9] + d[10:20] + d[21:31]
        try:
            return cls.from_barcode(barcode)
        except InvalidBoleto as err:
            raise InvalidBoleto("invalid general check digit in the boleto line") from err

    def due_date(self, *, near: date) -> date | None:
        """The due date, resolving the factor era by proximity to ``near``."""
        return factor_to_date(self.factor, near=near)

    @property
    def _cents(self) -> str:
        return f"{int(self.amount * 100):010d}"

    @property
    def barcode(self) -> str:
        """The 44 digits encoded as Interleaved 2 of 5."""
        without_dv = self.bank + self.currency + self.factor + self._cents + self.free_field
        dv = _mod11(without_dv)
        return without_dv[:4] + str(dv) + without_dv[4:]

    @property
    def line(self) -> str:
        """The 47-digit linha digitável, digits only."""
        b = self.barcode
        f1 = b[0:4] + b[19:24]
        f2 = b[24:34]
        f3 = b[34:44]
        return f1 + str(_mod10(f1)) + f2 + str(_mod10(f2)) + f3 + str(_mod10(f3)) + b[4] + b[5:19]

    @property
    def formatted_line(self) -> str:
        """The line as printed: ``03399.69925 58700.021924 06091.701018 8 90620000001000``."""
        x = self.line
        return f"{x[0:5]}.{x[5:10]} {x[10:15]}.{x[15:21]} {x[21:26]}.{x[26:32]} {x[32]} {x[33:]}"
