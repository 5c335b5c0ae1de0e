"""The escalation ladder of an operator: which channels, when, and under which limits.

A ladder is a list of steps. A step is due a set time after the ladder started, or at
once when the notice deadline (``notify_by``) is near, whichever comes first. Each step
names its channels; ``whatsapp|sms`` means WhatsApp, and SMS if WhatsApp cannot be used
or fails for good. A step never "succeeds" on delivery: the ladder stops only when the
clock sees a legal proof (R14-R18).

The default (issue 6): a signed e-mail with its confirmation link and WhatsApp (else SMS)
at the start; an IVR call after 2 days without proof; an agent call and a registered
letter with AR after 5 days, or at once when ``notify_by`` is 7 days away. The ladder
gives up ("attempts exhausted") when every attempt failed or waited ``give_up_after``
without proof. Quiet hours and frequency caps are rule R22 (CDC art. 71).

Everything here is pure: :func:`plan` decides, the service acts.
"""

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ccm.errors import DataError, DataValidationError
from ccm.rn593.clock import ClockPolicy
from ccm.rn593.reading import error_path

__all__ = [
    "CHANNEL_NEEDS",
    "DEFAULT_STEPS",
    "AttemptSeen",
    "FrequencyCaps",
    "Launch",
    "LadderProfile",
    "LadderStep",
    "QuietHours",
    "exhausted",
    "load_profile",
    "plan",
    "profile_json",
]

CHANNEL_NEEDS = {
    "email": "email",
    "sms": "phone",
    "whatsapp": "phone",
    "ivr": "phone",
    "agent_call": "phone",
    "registered_mail": "address",
}
"""The contact datum each channel needs."""

_STRICT = ConfigDict(extra="forbid", frozen=True)


class LadderStep(BaseModel):
    model_config = _STRICT

    channels: tuple[str, ...] = Field(min_length=1)
    """Channels launched together; ``a|b`` tries ``b`` when ``a`` cannot be used or fails."""
    after: timedelta = timedelta(0)
    """Due this long after the ladder started (ISO 8601 duration, e.g. ``P2D``)."""
    days_before_notify_by: int | None = Field(default=None, ge=0, le=60)
    """Also due at once when ``notify_by`` is this many days away or fewer."""

    @field_validator("channels")
    @classmethod
    def _known(cls, channels: tuple[str, ...]) -> tuple[str, ...]:
        for slot in channels:
            for name in slot.split("|"):
                if name not in CHANNEL_NEEDS:
                    raise ValueError(
                        f"{name!r} is not a channel (one of {', '.join(CHANNEL_NEEDS)})"
                    )
        return channels


DEFAULT_STEPS = (
    LadderStep(channels=("email", "whatsapp|sms")),
    LadderStep(channels=("ivr",), after=timedelta(days=2)),
    LadderStep(
        channels=("agent_call", "registered_mail"), after=timedelta(days=5), days_before_notify_by=7
    ),
)


class QuietHours(BaseModel):
    model_config = _STRICT

    start: time = time(20, 0)
    end: time = time(8, 0)

    def as_json(self) -> dict[str, str]:
        """The form communications carry (``recipient.quiet_hours``)."""
        return {"start": self.start.strftime("%H:%M"), "end": self.end.strftime("%H:%M")}


class FrequencyCaps(BaseModel):
    model_config = _STRICT

    per_day: int = Field(default=3, ge=1, le=20)
    """Messages (one per channel attempt) to one payer in any 24 hours."""
    per_week: int = Field(default=8, ge=1, le=50)
    """Messages to one payer in any 7 days."""


class LadderProfile(BaseModel):
    """One operator's RN 593 settings: who it is on the notice, its ladder, its limits."""

    model_config = _STRICT

    operator: Mapping[str, Any]
    """The operator as the notice template expects it (name, ANS registration, CNPJ,
    address, phone...)."""
    pix_key: str = Field(min_length=1, max_length=77)
    template: str = "delinquency_notice"
    locale: str = "pt-BR"
    steps: tuple[LadderStep, ...] = Field(default=DEFAULT_STEPS, min_length=1)
    give_up_after: timedelta = timedelta(days=10)
    """An attempt without proof this long after it was launched counts as failed."""
    quiet_hours: QuietHours | None = QuietHours()
    """When nothing is sent (R22); ``null`` only for demos and tests."""
    caps: FrequencyCaps = FrequencyCaps()
    policy: ClockPolicy = ClockPolicy()


def load_profile(path: Path) -> LadderProfile:
    """The profile in the JSON file ``path``.

    Raises:
        DataValidationError: unreadable, not JSON, or a field breaks its rule (named).
    """
    try:
        return LadderProfile.model_validate_json(path.read_bytes())
    except OSError as error:
        raise DataValidationError(
            [DataError(path="profile", message=f"cannot read {path}: {error.strerror}")]
        ) from None
    except ValidationError as error:
        raise DataValidationError(
            [
                DataError(
                    path="profile" + (f".{error_path(tuple(e['loc']))}" if e["loc"] else ""),
                    message=str(e["msg"]),
                )
                for e in error.errors(include_url=False)
            ]
        ) from None


@dataclass(frozen=True, slots=True, kw_only=True)
class AttemptSeen:
    """An attempt as the ladder sees it."""

    step: int
    slot: int
    channel: str
    launched_at: datetime
    outcome: str
    """``skipped`` (never sent), ``failed``, ``cancelled``, or ``open`` (sent, no proof yet)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Launch:
    """What :func:`plan` decides: send ``channel`` for a step's slot, or record why not."""

    step: int
    slot: int
    channel: str
    skip: str | None = None
    """Why this slot is recorded as skipped instead of sent."""


def _step_due(
    step: LadderStep,
    *,
    started_at: datetime | None,
    now: datetime,
    today: date,
    notify_by: date | None,
) -> bool:
    if now >= (started_at or now) + step.after:  # not started: the ladder starts now
        return True
    near = step.days_before_notify_by
    return near is not None and notify_by is not None and (notify_by - today).days <= near


def plan(
    profile: LadderProfile,
    attempts: Sequence[AttemptSeen],
    *,
    started_at: datetime | None,
    now: datetime,
    today: date,
    notify_by: date | None,
    usable: Mapping[str, str | None],
) -> list[Launch]:
    """The launches due now.

    ``usable`` maps each channel to ``None`` when it may be used, else to why not (no
    contact datum with provenance, R13; no provider). A step not launched yet is launched
    whole when due; a launched slot with alternatives falls back to the next one when its
    attempt failed or was skipped.
    """
    launches: list[Launch] = []
    for index, step in enumerate(profile.steps):
        seen = [a for a in attempts if a.step == index]
        if not seen and not _step_due(
            step, started_at=started_at, now=now, today=today, notify_by=notify_by
        ):
            continue
        for slot, alternatives in enumerate(step.channels):
            options = alternatives.split("|")
            tried = [a for a in seen if a.slot == slot]
            if tried and tried[-1].outcome not in {"failed", "skipped"}:
                continue
            left = [c for c in options if c not in {a.channel for a in tried}]
            if not left:
                continue
            choice = next((c for c in left if usable.get(c, "unknown channel") is None), None)
            if choice is not None:
                launches.append(Launch(step=index, slot=slot, channel=choice))
            else:  # each recorded once, with its reason: the slot has nothing left to try
                launches.extend(
                    Launch(
                        step=index, slot=slot, channel=c, skip=usable.get(c) or "unknown channel"
                    )
                    for c in left
                )
    return launches


def exhausted(profile: LadderProfile, attempts: Sequence[AttemptSeen], *, now: datetime) -> bool:
    """Every step was launched, no fallback is owed, and every attempt failed, was
    skipped, or waited ``give_up_after`` without proof (the caller knows there is no
    proof)."""
    if {a.step for a in attempts} != set(range(len(profile.steps))):
        return False
    for index, step in enumerate(profile.steps):  # a fallback still owed keeps it going
        for slot, alternatives in enumerate(step.channels):
            tried = [a for a in attempts if a.step == index and a.slot == slot]
            left = set(alternatives.split("|")) - {a.channel for a in tried}
            if tried and tried[-1].outcome in {"failed", "skipped"} and left:
                return False
    return all(
        a.outcome in {"failed", "skipped", "cancelled"}
        or now >= a.launched_at + profile.give_up_after
        for a in attempts
    )


def profile_json(profile: LadderProfile) -> str:
    """The profile as stored with each case (the ladder a case started with stays its own)."""
    return json.dumps(profile.model_dump(mode="json"), ensure_ascii=False, sort_keys=True)
