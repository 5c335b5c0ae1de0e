"""Brazilian and Portuguese identifiers printed on, or used to route, communications.

Each module validates one kind of identifier and raises :class:`InvalidIdentifier`
(a ``ValueError``) whose message names the rule that failed.
"""

from ccm.identifiers.cnpj import format_cnpj, normalize_cnpj, validate_cnpj
from ccm.identifiers.cpf import format_cpf, mask_cpf, normalize_cpf, validate_cpf
from ccm.identifiers.errors import InvalidIdentifier
from ccm.identifiers.nif import validate_nif
from ccm.identifiers.protocol import ProtocolFormat, ProtocolIssuer, SequenceStore
from ccm.identifiers.tracking import s10_check_digit, validate_tracking_code

__all__ = [
    "InvalidIdentifier",
    "ProtocolFormat",
    "ProtocolIssuer",
    "SequenceStore",
    "format_cnpj",
    "format_cpf",
    "mask_cpf",
    "normalize_cnpj",
    "normalize_cpf",
    "s10_check_digit",
    "validate_cnpj",
    "validate_cpf",
    "validate_nif",
    "validate_tracking_code",
]
