"""``/v1/recipients``: contacts with provenance and channel preferences, with history."""

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, status
from pydantic import BaseModel, ConfigDict, Field

from api.deps import Services, require, services
from api.schemas import Address, Cpf, ErrorOut, RequestBody
from ccm.service.keys import ApiKey, Role
from ccm.service.recipients import get_recipient, history, save_recipient

__all__ = [
    "AddressContact",
    "Contacts",
    "EmailContact",
    "PhoneContact",
    "Preferences",
    "ProfileIn",
    "ProfileOut",
    "QuietHours",
    "read",
    "read_history",
    "router",
    "write",
]

router = APIRouter(prefix="/v1/recipients", tags=["recipients"])
_WRITERS = (Role.SUBMITTER, Role.AGENT)
_READERS = (Role.SUBMITTER, Role.AGENT, Role.LEGAL)
_HHMM = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"


_Source = Literal["contract", "beneficiary", "payer", "operator_record", "call_center", "app"]


class EmailContact(BaseModel):
    """An e-mail address and where it came from (rule R13)."""

    model_config = ConfigDict(extra="forbid")

    value: str = Field(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    source: _Source
    verified_at: datetime | None = None


class PhoneContact(BaseModel):
    model_config = ConfigDict(extra="forbid")

    value: str = Field(pattern=r"^\+[1-9][0-9]{7,14}$", description="E.164")
    source: _Source
    verified_at: datetime | None = None


class AddressContact(BaseModel):
    model_config = ConfigDict(extra="forbid")

    value: Address
    source: _Source
    verified_at: datetime | None = None


class Contacts(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: EmailContact | None = None
    phone: PhoneContact | None = None
    address: AddressContact | None = None


class QuietHours(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start: str = Field(pattern=_HHMM, examples=["21:00"])
    end: str = Field(pattern=_HHMM, examples=["08:00"])


class Preferences(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channels: list[Literal["email", "sms", "whatsapp", "registered_mail"]] = Field(
        default_factory=list, description="Allowed channels in order of preference."
    )
    quiet_hours: QuietHours | None = None
    locale: Literal["pt-BR", "pt-PT"] | None = None


class ProfileIn(RequestBody):
    name: str = Field(min_length=3, max_length=120)
    cpf: Cpf
    contacts: Contacts = Field(default_factory=Contacts)
    preferences: Preferences = Field(default_factory=Preferences)


class ProfileOut(BaseModel):
    id: str
    version: int
    updated_at: datetime
    updated_by: str
    profile: dict[str, Any]


_Id = Annotated[str, Path(min_length=1, max_length=120, pattern=r"^[^\x00/]+$")]


@router.put("/{recipient_id}", response_model=ProfileOut)
def write(
    recipient_id: _Id,
    body: ProfileIn,
    svc: Annotated[Services, Depends(services)],
    key: Annotated[ApiKey, Depends(require(*_WRITERS))],
) -> ProfileOut:
    """Store a new version of the recipient's contacts and preferences."""
    saved = save_recipient(
        svc.engine,
        recipient_id,
        body.model_dump(mode="json", exclude_none=True),
        by=key.id,
        now=datetime.now(UTC),
    )
    return ProfileOut.model_validate(saved, from_attributes=True)


def _namespace(key: ApiKey, owner: str | None) -> str:
    """Profiles are per client system; only legal (and admin) keys may read another's."""
    if owner is None or owner == key.id:
        return key.id
    if not key.has(Role.LEGAL):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "this key may read only its own recipients")
    return owner


@router.get("/{recipient_id}", response_model=ProfileOut, responses={404: {"model": ErrorOut}})
def read(
    recipient_id: _Id,
    svc: Annotated[Services, Depends(services)],
    key: Annotated[ApiKey, Depends(require(*_READERS))],
    owner: str | None = None,
) -> ProfileOut:
    """A profile of this key's namespace (legal keys name the ``owner`` key id)."""
    found = get_recipient(svc.engine, recipient_id, owner=_namespace(key, owner))
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no recipient {recipient_id}")
    return ProfileOut.model_validate(found, from_attributes=True)


@router.get("/{recipient_id}/history", responses={404: {"model": ErrorOut}})
def read_history(
    recipient_id: _Id,
    svc: Annotated[Services, Depends(services)],
    key: Annotated[ApiKey, Depends(require(*_READERS))],
    owner: str | None = None,
) -> list[dict[str, Any]]:
    """Every version, oldest first: who changed what, when."""
    versions = history(svc.engine, recipient_id, owner=_namespace(key, owner))
    if not versions:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no recipient {recipient_id}")
    return versions
