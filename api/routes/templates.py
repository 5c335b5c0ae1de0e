"""``/v1/templates``: the library as clients and content teams see it; versions, drafts,
approval; previews of any version in any channel.

Previews are never signed (they are not documents anyone was sent) and never recorded.
Only approved versions are used to send; the highest approved one is *current* (see
:mod:`ccm.service.templates` for the workflow and its rules).
"""

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Response, status
from pydantic import BaseModel, ConfigDict, Field

from api.deps import Services, require, services
from api.schemas import ErrorOut, RequestBody
from ccm.composition import (
    AgentScriptRendering,
    Composer,
    DocumentRendering,
    EmailRendering,
    TextRendering,
    VoiceRendering,
)
from ccm.errors import TemplateNotFound
from ccm.service.keys import ApiKey, Role
from ccm.service.templates import TemplateVersion

__all__ = [
    "DraftIn",
    "EditIn",
    "LocaleOut",
    "NoteIn",
    "PreviewIn",
    "RejectIn",
    "TemplateOut",
    "VersionOut",
    "VersionSummaryOut",
    "approve",
    "create_version",
    "edit_version",
    "listing",
    "preview",
    "preview_version",
    "reject",
    "router",
    "schema",
    "show",
    "show_version",
    "submit_version",
    "versions",
]

router = APIRouter(prefix="/v1/templates", tags=["templates"])
_READERS = (Role.SUBMITTER, Role.EDITOR, Role.APPROVER, Role.LEGAL)
_VERSION = Annotated[str, Path(pattern=r"^\d+\.\d+\.\d+$", max_length=20)]
_TEMPLATE_ID = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_]{0,79}$")]
_NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": ErrorOut}}
_WRITE: dict[int | str, dict[str, Any]] = {
    403: {"model": ErrorOut},
    404: {"model": ErrorOut},
    409: {"model": ErrorOut},
    422: {"model": ErrorOut},
}


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
        description="The current version: the highest approved one, used for new sends."
    )
    locales: list[LocaleOut]


class VersionSummaryOut(BaseModel):
    version: str
    state: Literal["draft", "submitted", "approved", "rejected"]
    origin: Literal["library", "api"] = Field(
        description="library: shipped with the deployment; api: written by an editor."
    )
    current: bool = Field(description="The version new communications are composed with.")
    base_version: str | None
    digest: str = Field(description="SHA-256 of the version's files.")
    authors: list[str] = Field(description="API key ids that wrote or submitted it.")
    log: list[dict[str, str]] = Field(description="Every action: action, by, at, note.")
    created_at: datetime
    updated_at: datetime


class VersionOut(VersionSummaryOut):
    files: dict[str, str] = Field(description="The template folder: manifest.yaml, <locale>/...")


class DraftIn(RequestBody):
    version: str = Field(
        pattern=r"^\d+\.\d+\.\d+$",
        max_length=20,
        description="Higher than every version of the template; never reused.",
    )
    base: str | None = Field(
        default=None,
        pattern=r"^\d+\.\d+\.\d+$",
        max_length=20,
        description="The version the changes apply to; default the current one.",
    )
    files: dict[str, str | None] = Field(
        description="Changed files (path -> text) and removed ones (path -> null); "
        "a new template needs them all. manifest.yaml takes the new version number "
        "when it is not among them."
    )
    note: str | None = Field(default=None, max_length=500)


class EditIn(RequestBody):
    files: dict[str, str | None]
    note: str | None = Field(default=None, max_length=500)


class NoteIn(RequestBody):
    note: str | None = Field(default=None, max_length=500)


class RejectIn(RequestBody):
    reason: str = Field(min_length=3, max_length=500, description="Told to the authors.")


class PreviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    locale: str | None = None
    channel: Literal["document", "email", "sms", "whatsapp", "voice", "agent_script"] = "document"
    format: Literal["pdf", "html", "text", "json"] = "pdf"
    data: dict[str, Any] | None = Field(
        default=None, description="Omit to preview the template's first sample."
    )


def _template(svc: Services, template_id: str) -> TemplateOut:
    library = svc.catalog.current(template_id).library
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
    return [_template(svc, t) for t in svc.catalog.ids()]


@router.get("/{template_id}", response_model=TemplateOut, responses={404: {"model": ErrorOut}})
def show(
    template_id: str,
    svc: Annotated[Services, Depends(services)],
    key: Annotated[ApiKey, Depends(require(*_READERS))],
) -> TemplateOut:
    with _found():
        return _template(svc, template_id)


@router.get("/{template_id}/schema", responses={404: {"model": ErrorOut}})
def schema(
    template_id: str,
    svc: Annotated[Services, Depends(services)],
    key: Annotated[ApiKey, Depends(require(*_READERS))],
    locale: str | None = None,
) -> dict[str, Any]:
    """The JSON Schema the current version's ``data`` must satisfy."""
    with _found():
        return dict(svc.catalog.current(template_id).library.variant(template_id, locale).schema)


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
    """Render sample or given data with the current version in one channel: PDF or HTML
    for documents, text for messages, JSON for call scripts. Unsigned, marked as a
    preview, never sent."""
    with _found():
        return _preview(svc.catalog.current(template_id), template_id, body)


def _preview(composer: Composer, template_id: str, body: PreviewIn) -> Response:
    variant = composer.library.variant(template_id, body.locale)
    data = body.data if body.data is not None else variant.samples()[0][1]
    composition = composer.prepare(
        template_id, data, locale=variant.locale, document_id=f"PREVIEW-{date.today():%Y%m%d}"
    )
    if body.channel == "agent_script":  # a call script is issued after its protocol number
        composition = composition.with_protocol("PREVIA-SEM-PROTOCOLO")
    rendering = composer.render(composition, body.channel, sign=False)
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


# -- versions --------------------------------------------------------------------------


def _summary(version: TemplateVersion, current: str | None) -> dict[str, Any]:
    return {
        "version": version.version,
        "state": str(version.state),
        "origin": str(version.origin),
        "current": version.version == current,
        "base_version": version.base_version,
        "digest": version.digest,
        "authors": list(version.authors),
        "log": list(version.log),
        "created_at": version.created_at,
        "updated_at": version.updated_at,
    }


def _current_or_none(svc: Services, template_id: str) -> str | None:
    try:
        return svc.catalog.current_version(template_id)
    except TemplateNotFound:
        return None


def _version_out(svc: Services, version: TemplateVersion) -> VersionOut:
    summary = _summary(version, _current_or_none(svc, version.template_id))
    return VersionOut.model_validate({**summary, "files": dict(version.files)})


@contextmanager
def _found() -> Iterator[None]:
    """An unknown template, locale or version named in the path is 404 (in a request
    body the API's handler makes it 422)."""
    try:
        yield
    except TemplateNotFound as error:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(error)) from error


@router.get("/{template_id}/versions", response_model=list[VersionSummaryOut], responses=_NOT_FOUND)
def versions(
    template_id: str,
    svc: Annotated[Services, Depends(services)],
    key: Annotated[ApiKey, Depends(require(*_READERS))],
) -> list[VersionSummaryOut]:
    """Every version of the template, newest first, with its state and history."""
    with _found():
        found = svc.catalog.versions(template_id)
    current = _current_or_none(svc, template_id)
    return [VersionSummaryOut.model_validate(_summary(v, current)) for v in found]


@router.post(
    "/{template_id}/versions",
    response_model=VersionOut,
    status_code=status.HTTP_201_CREATED,
    responses=_WRITE,
)
def create_version(
    template_id: _TEMPLATE_ID,
    body: DraftIn,
    svc: Annotated[Services, Depends(services)],
    key: Annotated[ApiKey, Depends(require(Role.EDITOR))],
) -> VersionOut:
    """A new draft version: the changed files over a base version (default: the current
    one), or every file of a new template. Checked to load; linted when submitted."""
    with _found():
        created = svc.catalog.create_draft(
            template_id, body.version, body.files, by=key.id, base=body.base, note=body.note
        )
    return _version_out(svc, created)


@router.get("/{template_id}/versions/{version}", response_model=VersionOut, responses=_NOT_FOUND)
def show_version(
    template_id: str,
    version: str,
    svc: Annotated[Services, Depends(services)],
    key: Annotated[ApiKey, Depends(require(*_READERS))],
) -> VersionOut:
    """One version with its files."""
    with _found():
        return _version_out(svc, svc.catalog.get(template_id, version))


@router.patch("/{template_id}/versions/{version}", response_model=VersionOut, responses=_WRITE)
def edit_version(
    template_id: str,
    version: _VERSION,
    body: EditIn,
    svc: Annotated[Services, Depends(services)],
    key: Annotated[ApiKey, Depends(require(Role.EDITOR))],
) -> VersionOut:
    """Change files of a draft (a rejected version becomes a draft again)."""
    with _found():
        edited = svc.catalog.edit_draft(template_id, version, body.files, by=key.id, note=body.note)
    return _version_out(svc, edited)


@router.post(
    "/{template_id}/versions/{version}/submit", response_model=VersionOut, responses=_WRITE
)
def submit_version(
    template_id: str,
    version: _VERSION,
    svc: Annotated[Services, Depends(services)],
    key: Annotated[ApiKey, Depends(require(Role.EDITOR))],
) -> VersionOut:
    """Submit a draft for approval: every sample is rendered in every channel and checked
    (``ccm templates lint``); any finding is a 422 naming its file or sample."""
    with _found():
        return _version_out(svc, svc.catalog.submit(template_id, version, by=key.id))


@router.post(
    "/{template_id}/versions/{version}/approve", response_model=VersionOut, responses=_WRITE
)
def approve(
    template_id: str,
    version: _VERSION,
    svc: Annotated[Services, Depends(services)],
    key: Annotated[ApiKey, Depends(require(Role.APPROVER))],
    body: NoteIn | None = None,
) -> VersionOut:
    """Approve a submitted version. The approver must not be one of its authors (403).
    From now on new communications use it, if it is the highest approved version."""
    note = body.note if body is not None else None
    with _found():
        return _version_out(svc, svc.catalog.approve(template_id, version, by=key.id, note=note))


@router.post(
    "/{template_id}/versions/{version}/reject", response_model=VersionOut, responses=_WRITE
)
def reject(
    template_id: str,
    version: _VERSION,
    body: RejectIn,
    svc: Annotated[Services, Depends(services)],
    key: Annotated[ApiKey, Depends(require(Role.APPROVER))],
) -> VersionOut:
    """Send a submitted version back to its authors, with the reason."""
    with _found():
        rejected = svc.catalog.reject(template_id, version, by=key.id, reason=body.reason)
    return _version_out(svc, rejected)


@router.post(
    "/{template_id}/versions/{version}/preview",
    response_class=Response,
    responses={404: {"model": ErrorOut}, 422: {"model": ErrorOut}},
)
def preview_version(
    template_id: str,
    version: str,
    body: PreviewIn,
    svc: Annotated[Services, Depends(services)],
    key: Annotated[ApiKey, Depends(require(*_READERS))],
) -> Response:
    """Preview any version, drafts included, exactly as :func:`preview` does."""
    with _found():
        found = svc.catalog.get(template_id, version)
        approved = found.state == "approved"
        catalog = svc.catalog
        composer = catalog.pinned(template_id, version) if approved else catalog.composer_for(found)
        return _preview(composer, template_id, body)
