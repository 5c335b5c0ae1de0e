"""The evidence certificate rendered through the template library (``evidence_certificate``)."""

from collections.abc import Mapping
from typing import Any

from ccm.composition import Composer, DocumentRendering
from ccm.evidence.pack import CertificateRenderer

__all__ = ["CERTIFICATE_TEMPLATE", "certificate_renderer"]

CERTIFICATE_TEMPLATE = "evidence_certificate"


def certificate_renderer(composer: Composer) -> CertificateRenderer:
    """Render certificate data to a PAdES-signed PDF/A with ``composer``."""

    def render(data: Mapping[str, Any], document_id: str) -> bytes:
        composition = composer.prepare(
            CERTIFICATE_TEMPLATE, data, locale="pt-BR", document_id=document_id
        )
        rendering = composer.render(composition, "document")
        assert isinstance(rendering, DocumentRendering)
        return rendering.pdf

    return render
