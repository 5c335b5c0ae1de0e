"""PIX "copia e cola" payloads: the BCB BR Code, an EMV merchant-presented QR (rule R40).

A payload is a run of ``ID(2) LEN(2, decimal) VALUE`` fields ending in ``6304`` and a
CRC-16/CCITT-FALSE of everything before it, as 4 uppercase hex digits. Static codes
only: a dynamic ``cobv`` charge needs a PSP and is out of scope here.
"""

import binascii
import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from ccm.identifiers.cnpj import validate_cnpj
from ccm.identifiers.cpf import validate_cpf
from ccm.identifiers.errors import InvalidIdentifier

__all__ = [
    "BrCode",
    "InvalidBrCode",
    "PixCharge",
    "build_brcode",
    "crc16",
    "normalize_pix_key",
    "parse_brcode",
]

PIX_GUI = "br.gov.bcb.pix"
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"\+55[0-9]{10,11}")
_EVP = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


class InvalidBrCode(ValueError):
    """A BR Code payload or one of its fields breaks the BCB rules."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PixCharge:
    """What a static PIX code asks the payer's bank to pay."""

    key: str
    """PIX key: CPF, CNPJ, e-mail, ``+55`` phone or random (EVP) key."""
    merchant_name: str
    """Receiver name; accents are removed and it is cut to 25 characters."""
    merchant_city: str
    """Receiver city; accents are removed and it is cut to 15 characters."""
    amount: Decimal | None = None
    txid: str = "***"
    """Reference shown to the receiver: up to 25 letters and digits, or ``***``."""
    description: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class BrCode:
    """A parsed, CRC-checked BR Code."""

    key: str
    merchant_name: str
    merchant_city: str
    amount: Decimal | None
    txid: str | None
    fields: dict[str, str]
    """Top-level fields by ID, as they appear in the payload."""


def crc16(data: bytes) -> str:
    """CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF) as 4 uppercase hex digits."""
    return f"{binascii.crc_hqx(data, 0xFFFF):04X}"


def normalize_pix_key(key: str) -> str:
    """Return the key in the form it takes inside a BR Code.

    Raises:
        InvalidBrCode: the key is none of CPF, CNPJ, e-mail, ``+55`` phone or EVP.
    """
    key = key.strip()
    if _EVP.match(key.lower()):
        return key.lower()
    if _EMAIL.match(key):
        if len(key) > 77:
            raise InvalidBrCode("PIX e-mail key is longer than 77 characters")
        return key.lower()
    if _PHONE.fullmatch(key):
        return key
    digits = "".join(ch for ch in key if ch.isalnum())
    try:
        if re.fullmatch(r"[0-9]{11}", digits):
            return validate_cpf(digits)
        if len(digits) == 14:
            return validate_cnpj(digits)
    except InvalidIdentifier as err:
        raise InvalidBrCode(f"PIX key: {err}") from err
    raise InvalidBrCode("PIX key must be a CPF, CNPJ, e-mail, +55 phone or random key")


def _ascii_text(value: str, limit: int) -> str:
    decomposed = unicodedata.normalize("NFKD", value)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    plain = re.sub(r"[^A-Za-z0-9 .\-&/]", "", plain)
    return " ".join(plain.split())[:limit].rstrip()


def _field(field_id: str, value: str) -> str:
    if len(value) > 99:
        raise InvalidBrCode(f"BR Code field {field_id} is longer than 99 characters")
    return f"{field_id}{len(value):02d}{value}"


def build_brcode(charge: PixCharge) -> str:
    """Build the "copia e cola" payload for ``charge``.

    Raises:
        InvalidBrCode: an invalid key, a non-positive amount or an invalid txid.
    """
    key = normalize_pix_key(charge.key)
    account = _field("00", PIX_GUI) + _field("01", key)
    room = 99 - len(account) - 4
    if charge.description and room > 0:  # a long key leaves no room: the text is optional
        account += _field("02", _ascii_text(charge.description, room))
    txid = charge.txid if charge.txid == "***" else re.sub(r"[^A-Za-z0-9]", "", charge.txid)[:25]
    if not txid:
        raise InvalidBrCode("PIX txid must have at least one letter or digit")
    parts = [_field("00", "01"), _field("26", account), _field("52", "0000"), _field("53", "986")]
    if charge.amount is not None:
        if charge.amount <= 0:
            raise InvalidBrCode("PIX amount must be positive")
        parts.append(_field("54", f"{charge.amount:.2f}"))
    name = _ascii_text(charge.merchant_name, 25)
    city = _ascii_text(charge.merchant_city, 15)
    if not name or not city:
        raise InvalidBrCode("PIX receiver name and city need Latin letters or digits")
    parts += [
        _field("58", "BR"),
        _field("59", name),
        _field("60", city),
        _field("62", _field("05", txid)),
    ]
    body = "".join(parts) + "6304"
    return body + crc16(body.encode("utf-8"))


def _tlv(payload: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    i = 0
    while i < len(payload):
        head = payload[i : i + 4]
        if len(head) < 4 or not head.isdigit():
            raise InvalidBrCode(f"malformed BR Code field at position {i}")
        length = int(head[2:])
        value = payload[i + 4 : i + 4 + length]
        if len(value) != length:
            raise InvalidBrCode(f"BR Code field {head[:2]} is truncated")
        fields[head[:2]] = value
        i += 4 + length
    return fields


def parse_brcode(payload: str) -> BrCode:
    """Parse and check a "copia e cola" payload.

    Raises:
        InvalidBrCode: bad structure, a wrong CRC or a missing or invalid mandatory field.
    """
    if len(payload) < 8 or payload[-8:-4] != "6304":
        raise InvalidBrCode("BR Code must end with the CRC field 6304")
    if crc16(payload[:-4].encode("utf-8")) != payload[-4:].upper():
        raise InvalidBrCode("BR Code CRC does not match")
    fields = _tlv(payload)
    expected = {"00": "01", "52": "0000", "53": "986", "58": "BR"}
    for field_id, value in expected.items():
        if fields.get(field_id) != value:
            raise InvalidBrCode(f"BR Code field {field_id} must be {value}")
    for field_id, limit in (("59", 25), ("60", 15)):
        if not 0 < len(fields.get(field_id, "")) <= limit:
            raise InvalidBrCode(f"BR Code field {field_id} must have 1 to {limit} characters")
    account = _tlv(fields.get("26", ""))
    if account.get("00", "").lower() != PIX_GUI:
        raise InvalidBrCode("BR Code field 26 must carry the GUI br.gov.bcb.pix")
    key = account.get("01") or account.get("25")
    if not key:
        raise InvalidBrCode("BR Code field 26 must carry a key (01) or a location (25)")
    try:
        amount = Decimal(fields["54"]) if "54" in fields else None
    except InvalidOperation as err:
        raise InvalidBrCode("BR Code field 54 is not an amount") from err
    txid = _tlv(fields["62"]).get("05") if "62" in fields else None
    return BrCode(
        key=key,
        merchant_name=fields["59"],
        merchant_city=fields["60"],
        amount=amount,
        txid=txid,
        fields=fields,
    )
