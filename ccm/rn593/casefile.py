"""A delinquency case as an operator imports it: the clock's :class:`Case` plus what it
takes to notify the payer (plan, beneficiaries at risk, contact data with provenance).

Rules (``shared/reference/domain.md``):

- R12: the notice goes to the person who pays (the contracting person, or the
  beneficiary who pays directly), never to a dependent: a payer whose role is a
  dependent's is refused at import;
- R13: only contact data the contractor or the addressee supplied may be used, and ccm
  records where each datum came from and when it was last updated. A contact without a
  usable provenance is imported (the operator sees it) but never used by the ladder.
"""

from datetime import date
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ccm.rn593.case import Case

__all__ = [
    "DEPENDENT_ROLES",
    "USABLE_SOURCES",
    "Address",
    "AddressContact",
    "Beneficiary",
    "CaseFile",
    "Contacts",
    "EmailContact",
    "PhoneContact",
    "Plan",
]

_STRICT = ConfigDict(extra="forbid", frozen=True)
Day = Annotated[date, Field(description="ISO date, YYYY-MM-DD")]

USABLE_SOURCES = frozenset({"contractor", "addressee"})
"""Who may have supplied a contact datum for it to be used (rule R13)."""
DEPENDENT_ROLES = frozenset({"dependente", "dependent"})
"""Payer roles that are a dependent's: never addressed (rule R12)."""


class Address(BaseModel):
    model_config = _STRICT

    line1: str = Field(min_length=1, max_length=200)
    line2: str | None = Field(default=None, max_length=200)
    district: str = Field(min_length=1, max_length=120)
    """Required: Correios addressing and the notice's address block need it."""
    city: str = Field(min_length=1, max_length=120)
    state: str = Field(pattern=r"^[A-Z]{2}$")
    postal_code: str = Field(pattern=r"^\d{5}-?\d{3}$")


class _Provenance(BaseModel):
    model_config = _STRICT

    source: str | None = Field(default=None, max_length=40, examples=["contractor", "addressee"])
    """Who supplied the datum: ``contractor`` or ``addressee`` make it usable (R13)."""
    updated_on: Day | None = None
    """When the datum was last updated in the operator's records."""

    @property
    def usable(self) -> bool:
        """Whether rule R13 lets the ladder use it."""
        return self.source in USABLE_SOURCES and self.updated_on is not None


class EmailContact(_Provenance):
    value: str = Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)


class PhoneContact(_Provenance):
    value: str = Field(pattern=r"^\+\d{10,15}$", examples=["+5511987654321"])
    """E.164."""


class AddressContact(_Provenance):
    value: Address


class Contacts(BaseModel):
    model_config = _STRICT

    email: EmailContact | None = None
    phone: PhoneContact | None = None
    address: AddressContact | None = None


class Beneficiary(BaseModel):
    model_config = _STRICT

    name: str = Field(min_length=1, max_length=200)
    cpf: str = Field(pattern=r"^\d{3}\.?\d{3}\.?\d{3}-?\d{2}$")
    relationship: str = Field(min_length=1, max_length=40, examples=["titular", "dependente"])


class Plan(BaseModel):
    model_config = _STRICT

    name: str = Field(min_length=1, max_length=200)
    ans_product_number: str = Field(min_length=1, max_length=40)


class CaseFile(BaseModel):
    """One contract's delinquency as imported (``ccm cases import``)."""

    model_config = _STRICT

    case: Case
    plan: Plan
    beneficiaries: tuple[Beneficiary, ...] = Field(min_length=1)
    """The beneficiaries at risk of losing coverage (named in the notice, R20)."""
    payer_birth_date: Day | None = None
    """Asked on recorded calls to confirm identity (R16)."""
    contacts: Contacts = Contacts()
    ticket: str | None = Field(default=None, max_length=80)
    """The operator's own ticket or collection reference, echoed in the follow-up sheet."""

    @field_validator("case")
    @classmethod
    def _payer_pays(cls, case: Case) -> Case:
        if case.payer.role.strip().lower() in DEPENDENT_ROLES:
            raise ValueError(
                "payer.role: rule R12: the notice goes to the person who pays, never to a dependent"
            )
        return case
