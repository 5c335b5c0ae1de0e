"""SMS text: GSM 03.38 transliteration and segment counting.

Portuguese has letters outside the GSM 7-bit alphabet (ã, õ, ç, á, ...). One of them
turns the whole message into UCS-2, where a segment holds 70 characters instead of
160; operators in Brazil therefore send SMS without those accents. Letters the GSM
alphabet has (é, à, ü, Ç ...) are kept.
"""

import unicodedata
from dataclasses import dataclass

__all__ = ["SmsEncoding", "to_gsm7"]

_GSM7_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM7_EXTENDED = "^{}\\[~]|€"
_REPLACEMENTS = {
    "“": '"',
    "”": '"',
    "‘": "'",
    "’": "'",
    "–": "-",
    "—": "-",
    "…": "...",
    "º": "o",
    "ª": "a",
    "\u00a0": " ",
}


def to_gsm7(text: str) -> str:
    """Replace characters outside GSM 03.38 by their closest GSM form."""
    out = []
    for ch in text:
        if ch in _GSM7_BASIC or ch in _GSM7_EXTENDED:
            out.append(ch)
        elif ch in _REPLACEMENTS:
            out.append(_REPLACEMENTS[ch])
        else:
            base = "".join(
                c for c in unicodedata.normalize("NFD", ch) if not unicodedata.combining(c)
            )
            out.append(base if base and all(c in _GSM7_BASIC for c in base) else "?")
    return "".join(out)


@dataclass(frozen=True, slots=True, kw_only=True)
class SmsEncoding:
    """How a text travels as SMS."""

    encoding: str
    """``GSM-7`` or ``UCS-2``."""
    units: int
    """Septets (GSM-7, extension characters count twice) or UTF-16 code units."""
    segments: int

    @classmethod
    def of(cls, text: str) -> "SmsEncoding":
        if all(ch in _GSM7_BASIC or ch in _GSM7_EXTENDED for ch in text):
            units = sum(2 if ch in _GSM7_EXTENDED else 1 for ch in text)
            single, multi, encoding = 160, 153, "GSM-7"
        else:
            units = len(text.encode("utf-16-le")) // 2
            single, multi, encoding = 70, 67, "UCS-2"
        segments = 1 if units <= single else -(-units // multi)
        return cls(encoding=encoding, units=units, segments=segments)
