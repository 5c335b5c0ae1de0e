"""The FastAPI application: ``create_app(settings)`` builds it around one set of services.

Errors are JSON with the field and the rule (``422``), never a stack trace: anything
unexpected is logged and answered ``500 {"detail": "internal error"}``.
"""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi_offline import FastAPIOffline
from sqlalchemy import Engine

from api.deps import Services
from api.metrics import REQUESTS
from api.routes import (
    agents,
    batches,
    cases,
    communications,
    health,
    inbound,
    pages,
    recipients,
    sns,
    templates,
    voice,
    webhooks,
)
from ccm.bootstrap import (
    build_artifact_store,
    build_catalog,
    build_database,
    build_ladder,
    build_ledger,
    build_protocol_issuer,
    build_sealer,
)
from ccm.config import Settings
from ccm.errors import (
    ArtifactNotFound,
    DataValidationError,
    EvidenceError,
    NotPermitted,
    StateConflict,
    TemplateNotFound,
)
from ccm.service.communications import IdempotencyConflict

__all__ = ["build_services", "create_app"]

log = logging.getLogger("ccm.api")
MAX_JSON_BYTES = 2 * 1024 * 1024


def _errors_json(errors: list[dict[str, str]], detail: str) -> JSONResponse:
    return JSONResponse(
        {"detail": detail, "errors": errors}, status_code=status.HTTP_422_UNPROCESSABLE_CONTENT
    )


def build_services(settings: Settings, engine: Engine | None = None) -> Services:
    """What the API needs, built once per process from ``settings``."""
    engine = engine or build_database(settings)
    return Services(
        settings=settings,
        engine=engine,
        catalog=build_catalog(settings, engine),
        ledger=build_ledger(settings, engine),
        store=build_artifact_store(settings),
        sealer=build_sealer(settings),
        ladder=build_ladder(settings, engine),
        protocols=build_protocol_issuer(settings, engine),
    )


def create_app(services: Services, *, on_shutdown: list[object] | None = None) -> FastAPI:
    """The API around ``services`` (see :func:`build_services`)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        for stop in on_shutdown or []:
            stop()  # type: ignore[operator]

    # Swagger UI served from the package, not a CDN: operators often run without internet.
    app = FastAPIOffline(
        title="ccm",
        version="1",
        summary="Provable customer communications: compose, sign, send, prove.",
        lifespan=lifespan,
    )
    app.state.services = services
    app.include_router(communications.router)
    app.include_router(agents.router)
    app.include_router(batches.router)
    app.include_router(cases.router)
    app.include_router(templates.router)
    app.include_router(recipients.router)
    app.include_router(inbound.router)
    app.include_router(webhooks.router)
    app.include_router(voice.router)
    app.include_router(sns.router)
    app.include_router(pages.router)
    app.include_router(health.router)

    @app.middleware("http")
    async def limit(request: Request, call_next):  # type: ignore[no-untyped-def]
        """JSON bodies up to 2 MB (batches stream their own, larger limit); no NUL in paths."""
        if "\x00" in request.url.path or "%00" in request.url.path:
            return JSONResponse({"detail": "NUL characters are not allowed in paths"}, 400)
        length = request.headers.get("content-length")
        if (
            not request.url.path.startswith("/v1/batches")
            and length is not None
            and (not length.isdigit() or int(length) > MAX_JSON_BYTES)
        ):
            return JSONResponse({"detail": "the request body is limited to 2 MB"}, 413)
        return await call_next(request)

    @app.middleware("http")
    async def count(request: Request, call_next):  # type: ignore[no-untyped-def]
        response = await call_next(request)
        route = request.scope.get("route")
        REQUESTS.labels(
            route=getattr(route, "path", "unmatched"), status=response.status_code
        ).inc()
        return response

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, error: RequestValidationError) -> JSONResponse:
        errors = []
        for item in error.errors():
            path = ".".join(str(p) for p in item["loc"] if p != "body")
            errors.append({"path": path, "rule": str(item["msg"])})
        return _errors_json(errors, "invalid request")

    @app.exception_handler(DataValidationError)
    async def invalid_data(_: Request, error: DataValidationError) -> JSONResponse:
        errors = []
        for item in error.errors:
            # A template's own checks name paths inside the request's ``data``.
            path = f"data.{item.path}".rstrip(".") if error.template else item.path
            errors.append({"path": path, "rule": item.message})
        return _errors_json(
            errors, "invalid data for the template" if error.template else "invalid request"
        )

    @app.exception_handler(TemplateNotFound)
    async def unknown_template(_: Request, error: TemplateNotFound) -> JSONResponse:
        return _errors_json([{"path": "template", "rule": str(error)}], "unknown template")

    @app.exception_handler(IdempotencyConflict)
    @app.exception_handler(StateConflict)
    async def conflict(_: Request, error: Exception) -> JSONResponse:
        return JSONResponse({"detail": str(error)}, status_code=status.HTTP_409_CONFLICT)

    @app.exception_handler(NotPermitted)
    async def not_permitted(_: Request, error: NotPermitted) -> JSONResponse:
        return JSONResponse({"detail": str(error)}, status_code=status.HTTP_403_FORBIDDEN)

    @app.exception_handler(EvidenceError)
    @app.exception_handler(ArtifactNotFound)
    async def not_there(_: Request, error: Exception) -> JSONResponse:
        return JSONResponse({"detail": str(error)}, status_code=status.HTTP_404_NOT_FOUND)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, error: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return JSONResponse({"detail": "internal error"}, status_code=500)

    return app
