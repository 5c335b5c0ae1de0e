"""Request and response models of the HTTP API (pydantic stays at this edge)."""

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from ccm.identifiers import InvalidIdentifier, validate_cpf

__all__ = [
    "Address",
    "Attempt",
    "CommunicationIn",
    "CommunicationOut",
    "Cpf",
    "ErrorOut",
    "EventOut",
    "Proof",
    "RecipientIn",
    "RequestBody",
]


def _no_nul(value: Any, path: str = "") -> None:
    """Refuse NUL characters anywhere (PostgreSQL cannot store them in text)."""
    if isinstance(value, str) and "\x00" in value:
        raise ValueError(f"{path or 'value'}: NUL characters are not allowed")
    if isinstance(value, dict):
        for key, item in value.items():
            _no_nul(key, path)
            _no_nul(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _no_nul(item, f"{path}[{i}]")


def _valid_cpf(value: str) -> str:
    try:
        return validate_cpf(value)
    except InvalidIdentifier as err:
        raise ValueError(str(err)) from err


Cpf = Annotated[
    str,
    AfterValidator(_valid_cpf),
    Field(description="CPF, with or without mask; check digits verified."),
]
"""A CPF whose check digits hold, normalised to 11 digits."""


class RequestBody(BaseModel):
    """A request body: no unknown fields, and no NUL characters anywhere in it."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _refuse_nul(cls, value: Any) -> Any:
        _no_nul(value)
        return value


class Address(BaseModel):
    """A Brazilian postal address (the template's own schema checks the CEP and UF)."""

    model_config = ConfigDict(extra="forbid")

    line1: str = Field(min_length=3, max_length=120)
    line2: str | None = Field(default=None, max_length=80)
    district: str = Field(min_length=2, max_length=80)
    city: str = Field(min_length=2, max_length=80)
    state: str = Field(pattern=r"^[A-Z]{2}$")
    postal_code: str = Field(pattern=r"^[0-9]{5}-?[0-9]{3}$")


class RecipientIn(BaseModel):
    """Who the communication is for; contact data used only as given here."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=120, description="The client system's id.")
    name: str = Field(min_length=3, max_length=120)
    cpf: Cpf
    role: Literal["payer", "titular", "dependent", "legal_representative"] = Field(
        description="payer: the person responsible for payment (rule R12)."
    )
    email: str | None = Field(default=None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    phone: str | None = Field(default=None, pattern=r"^\+[1-9][0-9]{7,14}$", description="E.164")
    address: Address | None = None


class CommunicationIn(RequestBody):
    """``POST /v1/communications``."""

    template: str = Field(min_length=1, max_length=80, examples=["delinquency_notice"])
    locale: str | None = Field(default=None, examples=["pt-BR"])
    data: dict[str, Any] = Field(description="The template's data (see its JSON Schema).")
    recipient: RecipientIn
    channels: list[str] | None = Field(
        default=None,
        max_length=6,
        description="email, sms, whatsapp, ivr, registered_mail, agent_call; omitted: chosen "
        "from contact data.",
    )
    case_id: str | None = Field(default=None, min_length=1, max_length=120)
    legal_basis: str | None = Field(
        default=None,
        min_length=3,
        max_length=200,
        description="Why a mandatory notice may use a channel the recipient opted out of "
        "(e.g. 'RN 593/2023 art. 8'); recorded in the evidence.",
    )


class Attempt(BaseModel):
    channel: str
    state: str
    attempts: int
    provider: str | None
    provider_message_id: str | None
    updated_at: datetime


class Proof(BaseModel):
    channel: str
    date: datetime
    rule: str
    evidence_ids: list[str]


class CommunicationOut(BaseModel):
    id: str
    status: Literal["accepted", "processing", "sent", "delivered", "proven", "failed", "cancelled"]
    template: str
    template_version: str
    locale: str
    case_id: str | None
    channels: list[str]
    created_at: datetime
    updated_at: datetime
    attempts: list[Attempt]
    proof: Proof | None
    links: dict[str, str]


class EventOut(BaseModel):
    """One ledger record, as hashed (see the evidence pack format)."""

    model_config = ConfigDict(extra="allow")

    index: int
    id: str
    type: str
    channel: str
    occurred_at: str
    hash: str


class ErrorOut(BaseModel):
    detail: str
    errors: list[dict[str, str]] | None = None
