"""The composition engine: templates + data -> documents and channel messages.

Names are re-exported lazily (PEP 562) so that light modules such as
``ccm.composition.channels`` can be imported without loading WeasyPrint.
"""

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ccm.composition.brands import Brand, BrandBook
    from ccm.composition.channels import Channel
    from ccm.composition.composer import Composer, Composition
    from ccm.composition.library import TemplateLibrary, TemplateVariant
    from ccm.composition.outputs import (
        AgentScriptRendering,
        DocumentRendering,
        EmailRendering,
        Rendering,
        ScriptStep,
        TextRendering,
        VoiceRendering,
    )
    from ccm.composition.pdf import PdfRenderer

_EXPORTS = {
    "AgentScriptRendering": "outputs",
    "Brand": "brands",
    "BrandBook": "brands",
    "Channel": "channels",
    "Composer": "composer",
    "Composition": "composer",
    "DocumentRendering": "outputs",
    "EmailRendering": "outputs",
    "PdfRenderer": "pdf",
    "Rendering": "outputs",
    "ScriptStep": "outputs",
    "TemplateLibrary": "library",
    "TemplateVariant": "library",
    "TextRendering": "outputs",
    "VoiceRendering": "outputs",
}

__all__ = [
    "AgentScriptRendering",
    "Brand",
    "BrandBook",
    "Channel",
    "Composer",
    "Composition",
    "DocumentRendering",
    "EmailRendering",
    "PdfRenderer",
    "Rendering",
    "ScriptStep",
    "TemplateLibrary",
    "TemplateVariant",
    "TextRendering",
    "VoiceRendering",
]


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    globals()[name] = value
    return value
