"""Payment artefacts printed on notices and second copies: PIX BR Code and boleto."""

from ccm.payments.boleto import Boleto, InvalidBoleto, due_date_factor, factor_to_date
from ccm.payments.pix import BrCode, InvalidBrCode, PixCharge, build_brcode, parse_brcode

__all__ = [
    "Boleto",
    "BrCode",
    "InvalidBoleto",
    "InvalidBrCode",
    "PixCharge",
    "build_brcode",
    "due_date_factor",
    "factor_to_date",
    "parse_brcode",
]
