"""The composition engine: validated data + template variant -> each channel's output.

``prepare`` validates the request against the template's schema and document model
and builds the context once; ``render`` produces any channel from it. The document
channel renders PDF/A-3b and, unless told otherwise, signs it (PAdES B-T).
"""

import hashlib
import json
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from jinja2 import Template
from jinja2 import TemplateError as JinjaError
from jinja2.exceptions import SecurityError

from ccm.composition.brands import Brand, BrandBook
from ccm.composition.channels import SOURCES, Channel
from ccm.composition.filters import as_date
from ccm.composition.issuer import issuer_view
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
from ccm.composition.scripts import (
    AGENT_DISCLOSING,
    AGENT_STEPS,
    IDENTITY_ITEMS,
    VOICE_DISCLOSING,
    VOICE_STEPS,
    render_steps,
)
from ccm.composition.sms import SmsEncoding, to_gsm7
from ccm.composition.text import one_line, paragraphs
from ccm.composition.validation import schema_errors
from ccm.documents.model import DocumentInfo, DocumentModel, PassThrough
from ccm.errors import (
    CCMError,
    DataError,
    DataValidationError,
    TemplateError,
    TemplateNotFound,
    TemplateSecurityError,
    TemplateSourceError,
)
from ccm.ports import DocumentSigner

__all__ = ["Composer", "Composition", "derive_document_id"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Composition:
    """A validated request, ready to render in any of its template's channels."""

    variant: TemplateVariant
    data: Mapping[str, Any]
    doc: DocumentInfo
    brand: Brand
    context: Mapping[str, Any]

    def with_protocol(self, protocol: str) -> "Composition":
        """The same composition for a call whose protocol number is now known."""
        return replace(self, context={**self.context, "call": {"protocol": protocol}})


_DOCUMENT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", re.ASCII)
_DOCUMENT_ID_RULE = (
    "must be 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit"
)


def _issuer_tax_id(data: Mapping[str, Any]) -> str | None:
    issuer = data.get("operator") or data.get("insurer") or {}
    tax_id = issuer.get("cnpj") or issuer.get("nif")
    return tax_id if isinstance(tax_id, str) else None


def derive_document_id(ref: str, data: Mapping[str, Any]) -> str:
    """A stable id from the template reference and the data (same request, same id)."""
    canonical = json.dumps({"template": ref, "data": data}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16].upper()


class Composer:
    """Validates, composes and renders communications; build one per process."""

    def __init__(
        self,
        *,
        library: TemplateLibrary,
        brands: BrandBook,
        pdf: PdfRenderer,
        models: Mapping[str, DocumentModel],
        signer: DocumentSigner | None,
        public_base_url: str,
        specimen: bool,
    ) -> None:
        self.library = library
        self._brands = brands
        self._pdf = pdf
        self._models = models
        self._signer = signer
        self._base_url = public_base_url.rstrip("/")
        self._specimen = specimen

    def with_library(self, library: TemplateLibrary) -> "Composer":
        """A composer over ``library`` sharing this one's brands, renderer and signer."""
        return Composer(
            library=library,
            brands=self._brands,
            pdf=self._pdf,
            models=self._models,
            signer=self._signer,
            public_base_url=self._base_url,
            specimen=self._specimen,
        )

    def prepare(
        self,
        template: str,
        data: Mapping[str, Any],
        *,
        locale: str | None = None,
        document_id: str | None = None,
        protocol: str | None = None,
    ) -> Composition:
        """Validate ``data`` for ``template`` and build the rendering context.

        Raises:
            TemplateNotFound: unknown template or locale.
            DataValidationError: the data breaks the schema or a domain rule.
        """
        variant = self.library.variant(template, locale)
        if document_id is not None and not _DOCUMENT_ID.fullmatch(document_id):
            raise DataValidationError(
                [DataError(path="document_id", message=_DOCUMENT_ID_RULE)], template=variant.ref
            )
        errors = schema_errors(variant.validator, data)
        model = self._model(variant)
        if not errors:
            errors = model.check(data)
        if errors:
            raise DataValidationError(errors, template=variant.ref)
        doc = DocumentInfo(
            id=document_id or derive_document_id(variant.ref, data),
            issue_date=as_date(data["issue_date"]),
            title=variant.title,
            template=variant.ref,
            locale=variant.locale,
            specimen=self._specimen,
        )
        brand = self._brands.for_issuer(_issuer_tax_id(data))
        derived = model.derive(data, doc)
        if shadowed := (set(derived) & set(data)) - model.completes:
            raise TemplateError(
                f"document model {variant.manifest.model!r} derives names the data also has: "
                + ", ".join(sorted(shadowed)),
                template=variant.ref,
            )
        context = {
            **data,
            **derived,
            "doc": doc,
            "brand": brand,
            "issuer": issuer_view(data),
            "links": {
                "document": f"{self._base_url}/d/{doc.id}",
                "pixel": f"{self._base_url}/p/{doc.id}.gif",
            },
            "call": {"protocol": protocol},
        }
        return Composition(variant=variant, data=data, doc=doc, brand=brand, context=context)

    def _model(self, variant: TemplateVariant) -> DocumentModel:
        name = variant.manifest.model
        if name is None:
            return PassThrough()
        if name not in self._models:
            raise TemplateError(f"unknown document model {name!r}", template=variant.ref)
        return self._models[name]

    @staticmethod
    @contextmanager
    def _source_errors(source: str, ref: str) -> Iterator[None]:
        """Report any failure of a template source as a TemplateError naming it."""
        try:
            yield
        except CCMError:
            raise
        except SecurityError as err:
            raise TemplateSecurityError(f"{source}: {err}", template=ref) from err
        except (JinjaError, ArithmeticError, LookupError, TypeError, ValueError) as err:
            raise TemplateSourceError(
                f"{source}: {type(err).__name__}: {err}", template=ref
            ) from err

    def _template(self, composition: Composition, name: str) -> Template:
        """A source of the variant, or a shared one when ``name`` starts with ``_shared/``."""
        variant = composition.variant
        path = name if name.startswith("_shared/") else variant.source(name)
        with self._source_errors(name, variant.ref):
            return self.library.environment(variant.locale).get_template(path)

    def _render(self, composition: Composition, name: str, **extra: Any) -> str:
        template = self._template(composition, name)
        with self._source_errors(name, composition.variant.ref):
            return template.render({**composition.context, **extra})

    def _header(self, composition: Composition, channel: Channel) -> dict[str, Any]:
        variant = composition.variant
        if channel not in variant.spec.channels:
            raise TemplateNotFound(
                f"no {channel} variant; it has {', '.join(variant.spec.channels)}",
                template=variant.ref,
            )
        return {
            "channel": channel,
            "template": variant.ref,
            "template_digest": variant.digest,
            "shared_digest": self.library.shared_digest,
            "brand": composition.brand.id,
            "brand_digest": composition.brand.digest,
            "document_id": composition.doc.id,
        }

    def render(
        self, composition: Composition, channel: Channel | str, *, sign: bool = True
    ) -> Rendering:
        """Render one channel; ``sign`` applies to the document channel.

        Raises:
            TemplateNotFound: the template has no such channel.
            TemplateError: a source fails to render or a call script would disclose the debt.
            SigningError: the PDF could not be signed.
        """
        try:
            channel = Channel(channel)
        except ValueError as err:
            raise TemplateNotFound(
                f"no channel {channel!r}", template=composition.variant.ref
            ) from err
        header = self._header(composition, channel)
        if channel is Channel.DOCUMENT:
            return self._document(composition, header, sign=sign)
        if channel is Channel.EMAIL:
            subject, html_name, text_name = SOURCES[Channel.EMAIL]
            return EmailRendering(
                **header,
                subject=one_line(self._render(composition, subject)),
                html=self._render(composition, html_name),
                text=paragraphs(self._render(composition, text_name)),
            )
        if channel is Channel.SMS:
            text = one_line(self._render(composition, SOURCES[channel][0]))
            if composition.variant.spec.sms_gsm7:
                text = to_gsm7(text)
            return TextRendering(**header, text=text, sms=SmsEncoding.of(text))
        if channel is Channel.WHATSAPP:
            env = self.library.environment(composition.variant.locale)
            with self._source_errors("manifest.yaml whatsapp_variables", composition.variant.ref):
                variables = tuple(
                    (key, one_line(env.from_string(expression).render(composition.context)))
                    for key, expression in composition.variant.spec.whatsapp_variables.items()
                )
            return TextRendering(
                **header,
                text=paragraphs(self._render(composition, SOURCES[channel][0])),
                variables=variables,
            )
        if channel is Channel.VOICE:
            return self._voice(composition, header)
        return self._agent_script(composition, header)

    def document_html(self, composition: Composition) -> str:
        """The HTML the document channel lays out (for previews and benchmarks).

        Raises:
            TemplateError: the document source fails to render.
        """
        self._header(composition, Channel.DOCUMENT)
        return self._render(composition, SOURCES[Channel.DOCUMENT][0])

    def document_stylesheets(self, composition: Composition) -> list[Path]:
        """Stylesheet files of the document channel, base first (the brand's is inline)."""
        base = self.library.root / "_shared" / "css" / "document.css"
        local = composition.variant.stylesheet
        return [base] if local is None else [base, local]

    def _document(
        self, composition: Composition, header: dict[str, Any], *, sign: bool
    ) -> DocumentRendering:
        html = self._render(composition, SOURCES[Channel.DOCUMENT][0])
        base, *local = self.document_stylesheets(composition)
        # Cascade order: shared rules, the brand's custom properties, the template's own.
        sheets = [
            self._pdf.stylesheet(path=base),
            self._pdf.stylesheet(text=composition.brand.css),
            *(self._pdf.stylesheet(path=p) for p in local),
        ]
        rendered = self._pdf.render(
            html, base_url=self.library.root.as_uri() + "/", stylesheets=sheets
        )
        pdf, signed = rendered.pdf, False
        if sign and self._signer is not None:
            pdf, signed = self._signer.sign(pdf), True
        return DocumentRendering(**header, html=html, pdf=pdf, pages=rendered.pages, signed=signed)

    def _voice(self, composition: Composition, header: dict[str, Any]) -> VoiceRendering:
        spec = composition.variant.spec.voice
        items = tuple(spec.identity_items)
        prompts = {f"identity_{item}": IDENTITY_ITEMS[item] for item in items}
        names = VOICE_STEPS[:3] + tuple(prompts) + VOICE_STEPS[3:]
        steps = self._steps(composition, "voice", names, disclosing=VOICE_DISCLOSING, plain=True)
        ordered = [
            replace(steps[name], gather_digits=prompts[name]) if name in prompts else steps[name]
            for name in names
        ]
        return VoiceRendering(
            **header, steps=tuple(ordered), identity_items=items, max_attempts=spec.max_attempts
        )

    def _agent_script(
        self, composition: Composition, header: dict[str, Any]
    ) -> AgentScriptRendering:
        steps = self._steps(
            composition, "agent_script", AGENT_STEPS, disclosing=AGENT_DISCLOSING, plain=False
        )
        if not composition.context["call"]["protocol"]:
            raise TemplateError(
                "an agent script needs a protocol number, issued before the call (RN 623)",
                template=composition.variant.ref,
            )
        ordered = tuple(steps[n] for n in AGENT_STEPS)
        html = self._render(composition, "_shared/layouts/agent_page.html.j2", steps=ordered)
        return AgentScriptRendering(**header, html=html, steps=ordered)

    def _steps(
        self,
        composition: Composition,
        channel: str,
        names: tuple[str, ...],
        *,
        disclosing: frozenset[str],
        plain: bool,
    ) -> dict[str, ScriptStep]:
        source = SOURCES[Channel(channel)][0]
        template = self._template(composition, source)
        with self._source_errors(source, composition.variant.ref):
            return render_steps(
                template,
                composition.context,
                names,
                disclosing=disclosing,
                ref=composition.variant.ref,
                channel=channel,
                plain=plain,
            )
