"""A delinquency case as the RN 593 clock reads it (``CASE.json``).

The published JSON Schema (``ccm rn593 schema``, ``ccm/rn593/case.schema.json``) is
generated from these models. Dates are ISO ``YYYY-MM-DD``; unknown fields are refused so a
misspelt field is an error, not a silently ignored fact.
"""

from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "PROOF_KINDS_BY_CHANNEL",
    "Agreement",
    "Case",
    "Contract",
    "ContractType",
    "Dispute",
    "Hospitalization",
    "Installment",
    "Notice",
    "NoticeChannel",
    "Payer",
    "Proof",
    "ProofKind",
]


class ContractType(StrEnum):
    INDIVIDUAL = "individual"
    FAMILIAR = "familiar"
    COLETIVO_POR_ADESAO = "coletivo_por_adesao"
    COLETIVO_EMPRESARIAL = "coletivo_empresarial"


class NoticeChannel(StrEnum):
    EMAIL = "email"
    SMS = "sms"
    WHATSAPP = "whatsapp"
    IVR = "ivr"
    AGENT_CALL = "agent_call"
    REGISTERED_MAIL = "registered_mail"
    IN_PERSON = "in_person"


class ProofKind(StrEnum):
    SIGNATURE = "signature"
    READ_CONFIRMATION = "read_confirmation"
    REPLY = "reply"
    DATA_CONFIRMATION = "data_confirmation"
    AR_DELIVERED = "ar_delivered"
    SIGNED_RECEIPT = "signed_receipt"


PROOF_KINDS_BY_CHANNEL: dict[NoticeChannel, frozenset[ProofKind]] = {
    NoticeChannel.EMAIL: frozenset({ProofKind.SIGNATURE, ProofKind.READ_CONFIRMATION}),  # R14
    NoticeChannel.SMS: frozenset({ProofKind.REPLY}),  # R15
    NoticeChannel.WHATSAPP: frozenset({ProofKind.REPLY}),  # R15
    NoticeChannel.IVR: frozenset({ProofKind.DATA_CONFIRMATION}),  # R16
    NoticeChannel.AGENT_CALL: frozenset({ProofKind.DATA_CONFIRMATION}),  # R16
    NoticeChannel.REGISTERED_MAIL: frozenset({ProofKind.AR_DELIVERED}),  # R17
    NoticeChannel.IN_PERSON: frozenset({ProofKind.SIGNED_RECEIPT}),  # R18
}
"""Which proof makes a notice on each channel legally sufficient (RN 593 art. 8)."""

_STRICT = ConfigDict(extra="forbid", frozen=True)
Day = Annotated[date, Field(description="ISO date, YYYY-MM-DD")]


class Contract(BaseModel):
    model_config = _STRICT

    id: str = Field(min_length=1, max_length=120)
    type: ContractType
    pays_operator_directly: bool
    """Whether the beneficiary pays the operator (or its administrator) directly: only
    then is a collective business contract covered by RN 593."""


class Payer(BaseModel):
    model_config = _STRICT

    name: str = Field(min_length=1, max_length=200)
    cpf: str = Field(pattern=r"^\d{3}\.?\d{3}\.?\d{3}-?\d{2}$")
    role: str = Field(min_length=1, max_length=40, examples=["titular", "payer"])


class Installment(BaseModel):
    model_config = _STRICT

    competence: str = Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", examples=["2026-09"])
    due_date: Day
    amount: Decimal = Field(gt=0, max_digits=14, decimal_places=2)
    paid_on: Day | None = None
    operator_caused_delay_days: int = Field(default=0, ge=0, le=3660)
    """Days of delay the operator caused (no valid boleto issued, a debit not processed):
    they do not count as delinquency (rule R8)."""


class Hospitalization(BaseModel):
    model_config = _STRICT

    from_: Day = Field(alias="from")
    to: Day | None = None

    @model_validator(mode="after")
    def _ordered(self) -> "Hospitalization":
        if self.to is not None and self.to < self.from_:
            raise ValueError("to: before from")
        return self


class Dispute(BaseModel):
    model_config = _STRICT

    opened_on: Day
    answered_on: Day | None = None

    @model_validator(mode="after")
    def _ordered(self) -> "Dispute":
        if self.answered_on is not None and self.answered_on < self.opened_on:
            raise ValueError("answered_on: before opened_on")
        return self


class Agreement(BaseModel):
    model_config = _STRICT

    signed_on: Day
    status: str = Field(pattern=r"^(active|broken)$")


class Proof(BaseModel):
    model_config = _STRICT

    kind: ProofKind
    on: Day


class Notice(BaseModel):
    model_config = _STRICT

    channel: NoticeChannel
    sent_on: Day
    proof: Proof | None = None
    evidence_ids: tuple[str, ...] = ()
    """The evidence events that prove it (ccm's ids), carried into the decision (R24)."""

    @model_validator(mode="after")
    def _proof_after_sending(self) -> "Notice":
        if self.proof is not None and self.proof.on < self.sent_on:
            raise ValueError("proof.on: before sent_on")
        return self


class Case(BaseModel):
    """Everything the RN 593 clock needs to know about one contract's delinquency."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={"$id": "https://ccm.example/schemas/rn593-case.json"},
    )

    contract: Contract
    payer: Payer
    installments: tuple[Installment, ...] = Field(min_length=1)
    hospitalizations: tuple[Hospitalization, ...] = ()
    disputes: tuple[Dispute, ...] = ()
    agreements: tuple[Agreement, ...] = ()
    notices: tuple[Notice, ...] = ()
