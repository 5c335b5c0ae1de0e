"""Template lint: what must hold before a template version may be used to send.

For each template variant:
- the manifest, schema and channel sources load, and no source reaches for
  underscore attributes (also checked in branches the samples never reach);
- stylesheets avoid the constructs that halve WeasyPrint's speed (flex and grid
  layout, automatic table layout);
- every sample validates against the schema and the document model;
- every channel renders for every sample, and every mandatory element appears in
  every channel that must carry it: in the PDF's extracted text for documents, in
  both the HTML and the text part of e-mails;
- SMS fit the declared segment budget and WhatsApp texts the 1,024-character body
  limit of approved templates.

Findings are returned as data; the CLI turns them into an exit status.
"""

import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from jinja2 import TemplateError as JinjaError
from pypdf import PdfReader

from ccm.composition.channels import Channel
from ccm.composition.composer import Composer, Composition
from ccm.composition.environment import refuse_private_access
from ccm.composition.manifest import ElementKind, MandatoryElement
from ccm.composition.outputs import (
    AgentScriptRendering,
    DocumentRendering,
    EmailRendering,
    Rendering,
    TextRendering,
    VoiceRendering,
)
from ccm.composition.sms import to_gsm7
from ccm.composition.text import contains, html_to_text, searchable
from ccm.errors import CCMError, DataValidationError

__all__ = ["Finding", "expected_values", "lint_template", "lint_templates"]

WHATSAPP_BODY_LIMIT = 1024
_SLOW_CSS = (
    (
        re.compile(r"display\s*:\s*(inline-)?(flex|grid)\b"),
        "flex/grid layout halves rendering speed",
    ),
    (re.compile(r"table-layout\s*:\s*auto\b"), "automatic table layout halves rendering speed"),
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Finding:
    """One problem found by the lint."""

    template: str
    where: str
    """The file, sample or channel concerned."""
    message: str

    def __str__(self) -> str:
        return f"{self.template}: {self.where}: {self.message}"


def _source_findings(composer: Composer, folder_name: str) -> Iterable[Finding]:
    """Security and speed findings for the sources in one folder of the library."""
    library = composer.library
    root = library.root if folder_name.startswith("_") else library.home(folder_name)
    template = folder_name
    env = library.environment("pt-BR")
    folder = root / folder_name
    for path in sorted(folder.rglob("*.j2")):
        name = str(path.relative_to(root))
        try:
            refuse_private_access(path.read_text(encoding="utf-8"), name=name, environment=env)
        except CCMError as err:
            yield Finding(template=template, where=name, message=str(err))
        except JinjaError as err:
            yield Finding(template=template, where=name, message=f"syntax error: {err}")
    for path in sorted(folder.rglob("*.css")):
        css = re.sub(r"/\*.*?\*/", "", path.read_text(encoding="utf-8"), flags=re.S)
        for pattern, why in _SLOW_CSS:
            if pattern.search(css):
                where = str(path.relative_to(root))
                yield Finding(template=template, where=where, message=why)


def _channel_texts(rendering: Rendering) -> dict[str, str]:
    """The searchable texts a mandatory element must appear in, by part name."""
    if isinstance(rendering, DocumentRendering):
        reader = PdfReader(io.BytesIO(rendering.pdf))
        return {"pdf": " ".join(page.extract_text() or "" for page in reader.pages)}
    if isinstance(rendering, EmailRendering):
        return {
            "html": rendering.subject + " " + html_to_text(rendering.html),
            "text": rendering.subject + " " + rendering.text,
        }
    if isinstance(rendering, TextRendering):
        return {"text": rendering.text}
    if isinstance(rendering, VoiceRendering):
        return {"script": rendering.text}
    if isinstance(rendering, AgentScriptRendering):
        return {"page": html_to_text(rendering.html)}
    raise TypeError(f"unknown rendering {type(rendering).__name__}")


def _items(context: Mapping[str, Any], dotted: str) -> list[Any]:
    """The list at ``dotted`` in the context; none when any step is missing or null."""
    value: Any = context
    for part in dotted.split("."):
        if not isinstance(value, Mapping) or value.get(part) is None:
            return []
        value = value[part]
    return list(value)


def expected_values(
    composer: Composer, composition: Composition, element: MandatoryElement
) -> list[str]:
    """What ``element`` must show for this composition (one value per list item)."""
    env = composer.library.environment(composition.variant.locale)
    expression = env.from_string(element.expect)
    items = _items(composition.context, element.for_each) if element.for_each else [None]
    values = []
    for item in items:
        extra = {"item": item} if element.for_each else {}
        values.append(expression.render({**composition.context, **extra}))
    return [v for v in values if v.strip()]


def _element_findings(
    composer: Composer,
    composition: Composition,
    rendering: Rendering,
    channel: Channel,
    where: str,
) -> Iterable[Finding]:
    spec = composition.variant.spec
    texts = {part: searchable(text) for part, text in _channel_texts(rendering).items()}
    for element in spec.mandatory_elements:
        if channel not in spec.channels_of(element):
            continue
        try:
            values = expected_values(composer, composition, element)
        except (JinjaError, ArithmeticError, LookupError, TypeError, ValueError) as err:
            yield Finding(
                template=composition.variant.ref,
                where=f"manifest.yaml element {element.id!r}",
                message=f"its expect expression fails: {type(err).__name__}: {err}",
            )
            continue
        for value in values:
            if element.kind is ElementKind.IMAGE:
                html = rendering.html if isinstance(rendering, DocumentRendering) else ""
                if value not in html:
                    yield Finding(
                        template=composition.variant.ref,
                        where=where,
                        message=f"mandatory image {element.id!r} ({element.rule}) is missing",
                    )
                continue
            wanted = searchable(value)
            if channel is Channel.SMS and spec.sms_gsm7:
                wanted = to_gsm7(wanted)
            for part, text in texts.items():
                if not contains(text, wanted):
                    shown = wanted if len(wanted) <= 60 else wanted[:57] + "..."
                    yield Finding(
                        template=composition.variant.ref,
                        where=f"{where} ({part})" if len(texts) > 1 else where,
                        message=f"mandatory element {element.id!r} ({element.rule}: "
                        f"{element.description}) is missing: expected {shown!r}",
                    )


def _limits(rendering: Rendering, composition: Composition, where: str) -> Iterable[Finding]:
    if isinstance(rendering, TextRendering) and rendering.sms is not None:
        budget = composition.variant.spec.sms_max_segments
        if rendering.sms.segments > budget:
            yield Finding(
                template=composition.variant.ref,
                where=where,
                message=f"SMS needs {rendering.sms.segments} segments "
                f"({rendering.sms.units} {rendering.sms.encoding} units); the budget is {budget}",
            )
    if (
        isinstance(rendering, TextRendering)
        and rendering.channel is Channel.WHATSAPP
        and len(rendering.text) > WHATSAPP_BODY_LIMIT
    ):
        yield Finding(
            template=composition.variant.ref,
            where=where,
            message=f"WhatsApp text has {len(rendering.text)} characters; "
            f"approved template bodies allow {WHATSAPP_BODY_LIMIT}",
        )


def lint_template(composer: Composer, template: str) -> list[Finding]:
    """Every finding for one template, all its locales and samples."""
    try:
        manifest = composer.library.manifest(template)
    except CCMError as err:
        return [Finding(template=template, where="manifest.yaml", message=str(err))]
    findings = list(_source_findings(composer, template))
    for locale in manifest.locales:
        try:
            variant = composer.library.variant(template, locale)
            samples = variant.samples()
        except CCMError as err:
            findings.append(Finding(template=template, where=locale, message=str(err)))
            continue
        for sample_name, data in samples:
            try:
                composition = composer.prepare(
                    template, data, locale=locale, protocol="00000020000101000001"
                )
            except DataValidationError as err:
                findings.extend(
                    Finding(template=variant.ref, where=sample_name, message=str(e))
                    for e in err.errors
                )
                continue
            for channel in variant.spec.channels:
                where = f"{sample_name} [{channel}]"
                try:
                    rendering = composer.render(composition, channel, sign=False)
                except CCMError as err:
                    findings.append(Finding(template=variant.ref, where=where, message=str(err)))
                    continue
                findings.extend(_element_findings(composer, composition, rendering, channel, where))
                findings.extend(_limits(rendering, composition, where))
    return findings


def lint_templates(composer: Composer, templates: Iterable[str] | None = None) -> list[Finding]:
    """Lint ``templates`` (all templates of the library by default)."""
    ids = list(templates) if templates is not None else composer.library.ids()
    findings = list(_source_findings(composer, "_shared"))
    return findings + [finding for template in ids for finding in lint_template(composer, template)]
