"""What routes depend on: the services of the process and the caller's API key."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine

from ccm.composition import Composer
from ccm.config import Settings
from ccm.evidence.ledger import Ledger
from ccm.identifiers import ProtocolIssuer
from ccm.ports import ArtifactStore, Sealer
from ccm.service.keys import ApiKey, Role, authenticate
from ccm.service.ladder import CaseLadder
from ccm.service.templates import TemplateCatalog

__all__ = ["Services", "caller", "require", "services"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Services:
    """Built once per process by :func:`api.main.create_app`."""

    settings: Settings
    engine: Engine
    catalog: TemplateCatalog
    ledger: Ledger
    store: ArtifactStore
    sealer: Sealer
    ladder: CaseLadder
    protocols: ProtocolIssuer

    @property
    def composer(self) -> Composer:
        """The composer over the template library on disk (certificates, for one)."""
        return self.catalog.library_composer


def services(request: Request) -> Services:
    found: Services = request.app.state.services
    return found


_bearer = HTTPBearer(auto_error=False, description="An API key: `ccm keys create --role ROLE`.")


def caller(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> ApiKey:
    """The authenticated key, or 401."""
    key = None
    if credentials is not None and credentials.scheme.lower() == "bearer":
        key = authenticate(services(request).engine, credentials.credentials)
    if key is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "missing or invalid API key (Authorization: Bearer <key>)",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return key


def require(*roles: Role) -> Callable[[ApiKey], ApiKey]:
    """A dependency admitting keys with any of ``roles`` (admin always), else 403."""

    def check(key: Annotated[ApiKey, Depends(caller)]) -> ApiKey:
        if not key.has(*roles):
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                f"this key may not do that: needs one of {', '.join(sorted(roles))}",
            )
        return key

    return check
