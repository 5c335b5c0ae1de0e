"""A locale-neutral view of who sends a document, for the shared layouts.

Brazilian health-plan templates carry an ``operator`` (CNPJ, ANS registration);
Portuguese insurer templates carry an ``insurer`` (NIF, ASF registration). Layouts
read ``issuer`` and never need to know which.
"""

from collections.abc import Mapping
from typing import Any

from ccm.composition.filters import format_nif
from ccm.identifiers import format_cnpj

__all__ = ["issuer_view"]

_CONTACT_FIELDS = ("phone", "email", "website", "service_hours", "ombudsman")
_COMPANY_FIELDS = ("share_capital", "commercial_registry")
"""Código das Sociedades Comerciais art. 171.º: Portuguese companies print these."""


def issuer_view(data: Mapping[str, Any]) -> dict[str, Any] | None:
    """``name``, ``ids`` (label, value, badge), ``address`` and contacts of the sender."""
    if "operator" in data:
        party = data["operator"]
        ids = [{"label": "CNPJ", "value": format_cnpj(party["cnpj"]), "badge": False}]
        if party.get("ans_registration"):
            ids.append({"label": "ANS nº", "value": party["ans_registration"], "badge": True})
    elif "insurer" in data:
        party = data["insurer"]
        ids = [{"label": "NIF", "value": format_nif(party["nif"]), "badge": False}]
        if party.get("asf_registration"):
            ids.append({"label": "ASF n.º", "value": party["asf_registration"], "badge": True})
    else:
        return None
    view = {"name": party["name"], "ids": ids, "address": party["address"]}
    view.update({k: party.get(k) for k in (*_CONTACT_FIELDS, *_COMPANY_FIELDS)})
    return view
