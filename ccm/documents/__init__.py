"""Document models: the domain logic behind families of templates.

A manifest names its model (``model: delinquency_notice``); templates without one get
:class:`PassThrough`. The registry is explicit, no discovery.
"""

from ccm.documents.delinquency_notice import DelinquencyNotice
from ccm.documents.model import DocumentInfo, DocumentModel, PassThrough

__all__ = ["MODELS", "DocumentInfo", "DocumentModel", "PassThrough", "model_for"]

MODELS: dict[str, DocumentModel] = {
    "delinquency_notice": DelinquencyNotice(),
}


def model_for(name: str | None) -> DocumentModel:
    """The model called ``name``; :class:`PassThrough` for ``None``.

    Raises:
        KeyError: ``name`` is not registered.
    """
    return PassThrough() if name is None else MODELS[name]
