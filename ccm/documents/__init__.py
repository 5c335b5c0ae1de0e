"""Document models: the domain logic behind families of templates.

A manifest names its model (``model: delinquency_notice``); templates without one get
:class:`PassThrough`. The registry is explicit, no discovery; the bootstrap hands it to
the composer.
"""

from ccm.documents.claim_decision import ClaimDecision
from ccm.documents.contract_termination import ContractTermination
from ccm.documents.debt_discharge_declaration import DebtDischargeDeclaration
from ccm.documents.delinquency_notice import DelinquencyNotice
from ccm.documents.model import DocumentInfo, DocumentModel, PassThrough
from ccm.documents.payment_statement import PaymentStatement
from ccm.documents.second_copy import SecondCopy

__all__ = ["MODELS", "DocumentInfo", "DocumentModel", "PassThrough"]

MODELS: dict[str, DocumentModel] = {
    "delinquency_notice": DelinquencyNotice(),
    "second_copy": SecondCopy(),
    "debt_discharge_declaration": DebtDischargeDeclaration(),
    "payment_statement": PaymentStatement(),
    "contract_termination": ContractTermination(),
    "claim_decision": ClaimDecision(),
}
