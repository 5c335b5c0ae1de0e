"""The manifest of a template: what it is, its locales, channels and mandatory content.

A manifest is ``manifest.yaml`` at the top of a template folder::

    id: delinquency_notice
    version: 1.2.0
    kind: notice
    model: delinquency_notice     # optional Python document model (ccm.documents)
    locales:
      pt-BR:
        title: Notificação de inadimplência
        channels: [document, email, sms]
        mandatory_elements:
          - id: total_due
            rule: R20
            description: Valor exato e atualizado do débito
            expect: "{{ debt.total | money }}"
            channels: [document, email, sms]

Each locale folder next to it holds ``schema.json`` (the JSON Schema of the data),
one or more sample data files and the channel sources.
"""

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from ccm.composition.channels import Channel
from ccm.composition.filters import LOCALES

__all__ = [
    "ElementKind",
    "LocaleSpec",
    "MandatoryElement",
    "Manifest",
    "TemplateKind",
    "VoiceSpec",
]

Identifier = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$")]


class TemplateKind(StrEnum):
    NOTICE = "notice"
    LETTER = "letter"
    DECLARATION = "declaration"
    STATEMENT = "statement"
    SECOND_COPY = "second_copy"
    RECEIPT = "receipt"
    CERTIFICATE = "certificate"


class ElementKind(StrEnum):
    TEXT = "text"
    """``expect`` must appear in the channel's visible text."""
    IMAGE = "image"
    """``expect`` (a data URI) must be an image of the document."""


class MandatoryElement(BaseModel):
    """A piece of content the law requires, and how to find it in each channel."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Identifier
    rule: str = Field(min_length=1)
    """The rule it satisfies: an id from domain.md (``R20``) or a legal citation."""
    description: str = Field(min_length=1)
    expect: str = Field(min_length=1)
    """Jinja expression rendered with the document context; the result must be found."""
    for_each: str | None = None
    """Dotted path to a list in the context; ``expect`` is checked once per ``item``."""
    channels: tuple[Channel, ...] | None = None
    """Channels that must carry it; default: every channel of the locale."""
    kind: ElementKind = ElementKind.TEXT


class VoiceSpec(BaseModel):
    """How the IVR confirms identity before reading the notice (rule R16)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    identity_items: tuple[Literal["cpf_prefix", "cpf_suffix", "birth_year", "birth_date"], ...] = (
        "cpf_prefix",
        "cpf_suffix",
        "birth_year",
    )
    max_attempts: int = Field(default=3, ge=1, le=5)

    @model_validator(mode="after")
    def _three_items_with_cpf(self) -> "VoiceSpec":
        # Any 3 of the 4 items include a CPF one, so "CPF mandatory" follows from this.
        items = self.identity_items
        if len(set(items)) != len(items) or len(items) < 3:
            raise ValueError("the IVR confirms at least 3 distinct identity items (rule R16)")
        return self


class LocaleSpec(BaseModel):
    """One locale of a template."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    title: str = Field(min_length=1)
    channels: tuple[Channel, ...] = Field(min_length=1)
    samples: tuple[str, ...] = ("sample.json",)
    mandatory_elements: tuple[MandatoryElement, ...] = ()
    sms_max_segments: int = Field(default=2, ge=1, le=10)
    sms_gsm7: bool = True
    """Transliterate SMS text to the GSM 7-bit alphabet (160 characters a segment)."""
    voice: VoiceSpec = VoiceSpec()
    whatsapp_variables: dict[Annotated[str, StringConstraints(pattern=r"^[1-9][0-9]?$")], str] = {}
    """The placeholders of the WhatsApp template approved by Meta for this notice
    (``"1": "{{ operator.name }}"``...), sent with its content SID for business-initiated
    messages (``CCM_TWILIO_WHATSAPP_CONTENT_SIDS``)."""

    @model_validator(mode="after")
    def _elements_name_known_channels(self) -> "LocaleSpec":
        ids = [e.id for e in self.mandatory_elements]
        if len(ids) != len(set(ids)):
            raise ValueError("mandatory element ids must be unique")
        for element in self.mandatory_elements:
            unknown = set(element.channels or ()) - set(self.channels)
            if unknown:
                raise ValueError(
                    f"element {element.id!r} names channels the locale does not have: "
                    + ", ".join(sorted(unknown))
                )
        return self

    def channels_of(self, element: MandatoryElement) -> tuple[Channel, ...]:
        """The channels ``element`` must appear in."""
        return element.channels or self.channels


class Manifest(BaseModel):
    """A template's identity and its locale variants."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Identifier
    version: Annotated[str, StringConstraints(pattern=r"^\d+\.\d+\.\d+$")]
    kind: TemplateKind
    model: Identifier | None = None
    locales: dict[str, LocaleSpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _locales_are_supported(self) -> "Manifest":
        unknown = set(self.locales) - set(LOCALES)
        if unknown:
            raise ValueError(
                f"unsupported locales {', '.join(sorted(unknown))}; supported: {', '.join(LOCALES)}"
            )
        return self

    @property
    def default_locale(self) -> str:
        """The first locale listed."""
        return next(iter(self.locales))
