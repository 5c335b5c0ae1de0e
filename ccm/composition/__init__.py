"""The composition engine: templates + data -> documents and channel messages."""

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
