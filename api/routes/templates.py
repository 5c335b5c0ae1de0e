"""``/v1/templates``: the library as clients and content teams see it; preview any channel.

Previews are never signed (they are not documents anyone was sent) and never recorded.
The draft, submit and approve workflow of new template versions is not built yet: the
versions served are the ones in the template library on disk (see templates/README.md).
"""

import json
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Response, status
from pydantic import BaseModel, ConfigDict, Field

from api.deps import Services, require, services
from api.schemas import ErrorOut
from ccm.composition import (
    AgentScriptRendering,
    DocumentRendering,
    EmailRendering,
    TextRendering,
    VoiceRendering,
)
from ccm.errors import TemplateNotFound
from ccm.service.keys import ApiKey, Role

__all__ = [
    "LocaleOut",
    "PreviewIn",
    "TemplateOut",
    "listing",
    "preview",
    "router",
    "schema",
    "show",
]

router = APIRouter(prefix="/v1/templates", tags=["templates"])
_READERS = (Role.SUBMITTER, Role.EDITOR, Role.APPROVER, Role.LEGAL)


class LocaleOut(BaseModel):
    locale: str
    title: str
    channels: list[str]
    digest: str
    mandatory_elements: list[dict[str, str]]


class TemplateOut(BaseModel):
    id: str
    version: str
    kind: str
    state: Literal["approved"] = Field(
        description="Library versions are the approved ones; drafts are not built yet."
    )
    locales: list[LocaleOut]


class PreviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    locale: str | None = None
    channel: Literal["document", "email", "sms", "whatsapp", "voice", "agent_script"] = "document"
    format: Literal["pdf", "html", "text", "json"] = "pdf"
    data: dict[str, Any] | None = Field(
        default=None, description="Omit to preview the template's first sample."
    )


def _template(svc: Services, template_id: str) -> TemplateOut:
    library = svc.composer.library
    manifest = library.manifest(template_id)
    locales = []
    for locale in manifest.locales:
        variant = library.variant(template_id, locale)
        locales.append(
            LocaleOut(
                locale=locale,
                title=variant.spec.title,
                channels=[str(c) for c in variant.spec.channels],
                digest=variant.digest,
                mandatory_elements=[
                    {"id": e.id, "rule": e.rule, "description": e.description}
                    for e in variant.spec.mandatory_elements
                ],
            )
        )
    return TemplateOut(
        id=manifest.id,
        version=manifest.version,
        kind=str(manifest.kind),
        state="approved",
        locales=locales,
    )


@router.get("", response_model=list[TemplateOut])
def listing(
    svc: Annotated[Services, Depends(services)],
    key: Annotated[ApiKey, Depends(require(*_READERS))],
) -> list[TemplateOut]:
    """Every template with its version, locales, channels and mandatory elements."""
    return [_template(svc, t) for t in svc.composer.library.ids()]


@router.get("/{template_id}", response_model=TemplateOut, responses={404: {"model": ErrorOut}})
def show(
    template_id: str,
    svc: Annotated[Services, Depends(services)],
    key: Annotated[ApiKey, Depends(require(*_READERS))],
) -> TemplateOut:
    try:
        return _template(svc, template_id)
    except TemplateNotFound as error:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(error)) from error


@router.get("/{template_id}/schema", responses={404: {"model": ErrorOut}})
def schema(
    template_id: str,
    svc: Annotated[Services, Depends(services)],
    key: Annotated[ApiKey, Depends(require(*_READERS))],
    locale: str | None = None,
) -> dict[str, Any]:
    """The JSON Schema the template's ``data`` must satisfy."""
    try:
        return dict(svc.composer.library.variant(template_id, locale).schema)
    except TemplateNotFound as error:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(error)) from error


@router.post(
    "/{template_id}/preview",
    response_class=Response,
    responses={404: {"model": ErrorOut}, 422: {"model": ErrorOut}},
)
def preview(
    template_id: str,
    body: PreviewIn,
    svc: Annotated[Services, Depends(services)],
    key: Annotated[ApiKey, Depends(require(*_READERS))],
) -> Response:
    """Render sample or given data in one channel: PDF or HTML for documents, text for
    messages, JSON for call scripts. Unsigned, marked as a preview, never sent."""
    try:
        variant = svc.composer.library.variant(template_id, body.locale)
    except TemplateNotFound as error:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(error)) from error
    data = body.data if body.data is not None else variant.samples()[0][1]
    composition = svc.composer.prepare(
        template_id, data, locale=variant.locale, document_id=f"PREVIEW-{date.today():%Y%m%d}"
    )
    if body.channel == "agent_script":  # a call script is issued after its protocol number
        composition = composition.with_protocol("PREVIA-SEM-PROTOCOLO")
    rendering = svc.composer.render(composition, body.channel, sign=False)
    if isinstance(rendering, DocumentRendering):
        if body.format == "html":
            return Response(rendering.html, media_type="text/html")
        return Response(rendering.pdf, media_type="application/pdf")
    if isinstance(rendering, EmailRendering):
        if body.format == "html":
            return Response(rendering.html, media_type="text/html")
        return Response(f"{rendering.subject}\n\n{rendering.text}", media_type="text/plain")
    if isinstance(rendering, TextRendering):
        return Response(rendering.text, media_type="text/plain")
    if isinstance(rendering, AgentScriptRendering) and body.format == "html":
        return Response(rendering.html, media_type="text/html")
    assert isinstance(rendering, VoiceRendering | AgentScriptRendering)
    steps = [{"id": s.id, "text": s.text} for s in rendering.steps]
    return Response(json.dumps({"steps": steps}, ensure_ascii=False), media_type="application/json")
