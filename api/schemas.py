"""Request and response models of the HTTP API (pydantic stays at this edge)."""

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ccm.identifiers import InvalidIdentifier, validate_cpf

__all__ = [
    "Attempt",
    "CommunicationIn",
    "CommunicationOut",
    "ErrorOut",
    "EventOut",
    "Proof",
    "RecipientIn",
]


class RecipientIn(BaseModel):
    """Who the communication is for; contact data used only as given here."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=120, description="The client system's id.")
    name: str = Field(min_length=3, max_length=120)
    cpf: str = Field(description="CPF, with or without mask; check digits verified.")
    role: Literal["payer", "titular", "dependent", "legal_representative"] = Field(
        description="payer: the person responsible for payment (rule R12)."
    )
    email: str | None = Field(default=None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    phone: str | None = Field(default=None, pattern=r"^\+[1-9][0-9]{7,14}$", description="E.164")
    address: dict[str, Any] | None = None

    @field_validator("cpf")
    @classmethod
    def _cpf(cls, value: str) -> str:
        try:
            return validate_cpf(value)
        except InvalidIdentifier as err:
            raise ValueError(str(err)) from err


class CommunicationIn(BaseModel):
    """``POST /v1/communications``."""

    model_config = ConfigDict(extra="forbid")

    template: str = Field(min_length=1, max_length=80, examples=["delinquency_notice"])
    locale: str | None = Field(default=None, examples=["pt-BR"])
    data: dict[str, Any] = Field(description="The template's data (see its JSON Schema).")
    recipient: RecipientIn
    channels: list[str] | None = Field(
        default=None,
        max_length=6,
        description="email, sms, whatsapp, registered_mail; omitted: chosen from contact data.",
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
