"""API keys: ``ccm_<id>_<secret>``, stored as the SHA-256 of the secret, each with roles."""

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import Engine, select

from ccm.persistence.tables import api_keys

__all__ = ["ApiKey", "Role", "authenticate", "create_key"]


class Role(StrEnum):
    SUBMITTER = "submitter"
    EDITOR = "editor"
    APPROVER = "approver"
    LEGAL = "legal"
    AGENT = "agent"
    GATEWAY = "gateway"
    """Mail gateways and provider callbacks posting what comes back."""
    ADMIN = "admin"


@dataclass(frozen=True, slots=True, kw_only=True)
class ApiKey:
    """An authenticated caller."""

    id: str
    name: str
    roles: frozenset[Role]

    def has(self, *roles: Role) -> bool:
        """Whether the key holds any of ``roles`` (admin holds every role)."""
        return Role.ADMIN in self.roles or bool(self.roles & set(roles))


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_key(engine: Engine, *, name: str, roles: set[Role]) -> tuple[ApiKey, str]:
    """Create a key; return it and the token, which is shown once and never stored."""
    if not roles:
        raise ValueError("roles: at least one role is required")
    key_id, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
    with engine.begin() as connection:
        connection.execute(
            api_keys.insert().values(
                id=key_id,
                name=name,
                secret_hash=_digest(secret),
                roles=",".join(sorted(roles)),
                created_at=datetime.now(UTC),
            )
        )
    return ApiKey(id=key_id, name=name, roles=frozenset(roles)), f"ccm_{key_id}_{secret}"


def authenticate(engine: Engine, token: str) -> ApiKey | None:
    """The key ``token`` belongs to, or ``None`` (unknown, malformed, revoked)."""
    prefix, _, rest = token.partition("_")
    key_id, _, secret = rest.partition("_")
    if prefix != "ccm" or not key_id or not secret:
        return None
    with engine.connect() as connection:
        row = connection.execute(select(api_keys).where(api_keys.c.id == key_id)).first()
    if row is None or row.revoked_at is not None:
        return None
    if not hmac.compare_digest(row.secret_hash, _digest(secret)):
        return None
    return ApiKey(
        id=row.id, name=row.name, roles=frozenset(Role(r) for r in row.roles.split(",") if r)
    )
