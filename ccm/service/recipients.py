"""Recipients: contact data with provenance (rule R13) and channel preferences, versioned.

A profile is ``{"name", "cpf", "contacts": {"email"|"phone"|"address": {"value",
"source", "verified_at"}}, "preferences": {"channels": [...], "quiet_hours": {"start",
"end"}, "locale"}}``. Every change writes a new version to the history; nothing is
updated in place there. Quiet hours are local Brasília times (rule R22).
"""

import json
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, select

from ccm.errors import DataError, DataValidationError
from ccm.persistence.tables import recipient_history, recipients
from ccm.service.communications import utc

__all__ = [
    "RecipientProfile",
    "apply_preferences",
    "get_recipient",
    "history",
    "next_allowed",
    "save_recipient",
]

BRASILIA = ZoneInfo("America/Sao_Paulo")


@dataclass(frozen=True, slots=True, kw_only=True)
class RecipientProfile:
    id: str
    version: int
    profile: dict[str, Any]
    updated_at: datetime
    updated_by: str

    @property
    def allowed_channels(self) -> list[str]:
        return list(self.profile.get("preferences", {}).get("channels", []))

    def contact(self, kind: str) -> Any:
        item = self.profile.get("contacts", {}).get(kind)
        return item.get("value") if isinstance(item, dict) else None


def save_recipient(
    engine: Engine, recipient_id: str, profile: dict[str, Any], *, by: str, now: datetime
) -> RecipientProfile:
    """Store a new version of the profile in the namespace of key ``by`` (first: 1)."""
    text = json.dumps(profile, ensure_ascii=False, sort_keys=True)
    mine = (recipients.c.owner == by, recipients.c.id == recipient_id)
    with engine.begin() as connection:
        current = connection.execute(select(recipients.c.version).where(*mine)).scalar()
        version = (current or 0) + 1
        values = {"version": version, "profile": text, "updated_at": now, "updated_by": by}
        if current is None:
            connection.execute(recipients.insert().values(owner=by, id=recipient_id, **values))
        else:
            connection.execute(recipients.update().where(*mine).values(**values))
        connection.execute(
            recipient_history.insert().values(
                owner=by,
                recipient_id=recipient_id,
                version=version,
                profile=text,
                changed_at=now,
                changed_by=by,
            )
        )
    return RecipientProfile(
        id=recipient_id, version=version, profile=profile, updated_at=now, updated_by=by
    )


def get_recipient(engine: Engine, recipient_id: str, *, owner: str) -> RecipientProfile | None:
    """The profile ``recipient_id`` in the namespace of key ``owner``."""
    with engine.connect() as connection:
        row = connection.execute(
            select(recipients).where(recipients.c.owner == owner, recipients.c.id == recipient_id)
        ).first()
    if row is None:
        return None
    return RecipientProfile(
        id=row.id,
        version=row.version,
        profile=json.loads(row.profile),
        updated_at=utc(row.updated_at),
        updated_by=row.updated_by,
    )


def history(engine: Engine, recipient_id: str, *, owner: str) -> list[dict[str, Any]]:
    with engine.connect() as connection:
        rows = connection.execute(
            select(recipient_history)
            .where(
                recipient_history.c.owner == owner,
                recipient_history.c.recipient_id == recipient_id,
            )
            .order_by(recipient_history.c.version)
        ).all()
    return [
        {
            "version": r.version,
            "changed_at": utc(r.changed_at),
            "changed_by": r.changed_by,
            "profile": json.loads(r.profile),
        }
        for r in rows
    ]


def next_allowed(moment: datetime, quiet: dict[str, str] | None) -> datetime:
    """``moment``, or the end of the quiet hours it falls in (rule R22)."""
    if not quiet:
        return moment
    start, end = time.fromisoformat(quiet["start"]), time.fromisoformat(quiet["end"])
    local = moment.astimezone(BRASILIA)
    now = local.time()
    inside = (start <= now or now < end) if start > end else (start <= now < end)
    if not inside:
        return moment
    day = local.date() if now < end else local.date() + timedelta(days=1)
    return datetime.combine(day, end, tzinfo=BRASILIA).astimezone(moment.tzinfo)


_NEEDS = {"email": "email", "sms": "phone", "whatsapp": "phone", "registered_mail": "address"}


def apply_preferences(
    stored: RecipientProfile | None,
    recipient: dict[str, Any],
    channels: list[str] | None,
    *,
    mandatory: bool,
    legal_basis: str | None,
) -> tuple[dict[str, Any], list[str] | None]:
    """The request's recipient and channels, completed and checked against the profile.

    Contact data missing from the request comes from the profile (with its provenance);
    omitted channels become the first preferred channel with contact data; a channel
    the recipient opted out of is refused unless the communication is mandatory and a
    legal basis is given, which is then recorded with it.

    Raises:
        DataValidationError: an opted-out channel without a legal basis.
    """
    if stored is None:
        return recipient, channels
    if stored.profile.get("cpf") != recipient.get("cpf"):
        raise DataValidationError(
            [
                DataError(
                    path="recipient.cpf",
                    message=f"differs from the stored profile of recipient {stored.id!r}",
                )
            ]
        )
    completed = dict(recipient)
    provenance = {}
    for kind in ("email", "phone", "address"):
        item = stored.profile.get("contacts", {}).get(kind)
        if not completed.get(kind) and isinstance(item, dict):
            completed[kind] = item["value"]
            provenance[kind] = {k: item.get(k) for k in ("source", "verified_at")}
    if provenance:
        completed["contact_provenance"] = provenance
    quiet = stored.profile.get("preferences", {}).get("quiet_hours")
    if quiet:
        completed["quiet_hours"] = quiet
    allowed = stored.allowed_channels
    if channels is None:
        if not allowed:
            return completed, None
        usable = [c for c in allowed if completed.get(_NEEDS.get(c, c))]
        if not usable:
            raise DataValidationError(
                [
                    DataError(
                        path="channels",
                        message="no channel the recipient allows has contact data; give "
                        "channels (and a legal_basis for a mandatory notice)",
                    )
                ]
            )
        return completed, usable[:1]
    errors = []
    for i, channel in enumerate(channels):
        if allowed and channel not in allowed and not (mandatory and legal_basis):
            errors.append(
                DataError(
                    path=f"channels[{i}]",
                    message=f"the recipient opted out of {channel}; only a mandatory notice "
                    "with a legal_basis may override it",
                )
            )
    if errors:
        raise DataValidationError(errors)
    if legal_basis and any(c not in allowed for c in channels):
        completed["legal_basis"] = legal_basis
    return completed, channels
