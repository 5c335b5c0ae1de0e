"""``/healthz`` (the process answers), ``/readyz`` (it can work), ``/metrics`` (Prometheus)."""

from typing import Annotated

from fastapi import APIRouter, Depends, Response, status
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import func, select, text

from api.deps import Services, services
from api.metrics import COMMUNICATIONS, JOBS, REGISTRY
from ccm.persistence.tables import communications, jobs

__all__ = ["healthz", "metrics", "readyz", "router"]

router = APIRouter(tags=["operations"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz")
def readyz(svc: Annotated[Services, Depends(services)], response: Response) -> dict[str, str]:
    """The database answers and holds the current schema."""
    try:
        with svc.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            connection.execute(select(func.count()).select_from(jobs)).scalar_one()
    except Exception as err:  # noqa: BLE001 - any failure means not ready
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
        return {"status": "unavailable", "reason": type(err).__name__}
    return {"status": "ready"}


@router.get("/metrics", response_class=Response)
def metrics(svc: Annotated[Services, Depends(services)]) -> Response:
    """Prometheus text format: communications by status, jobs by state."""
    COMMUNICATIONS.clear()  # a state with no rows any more must not keep its last count
    JOBS.clear()
    with svc.engine.connect() as connection:
        for state, count in connection.execute(
            select(communications.c.status, func.count()).group_by(communications.c.status)
        ):
            COMMUNICATIONS.labels(status=state).set(count)
        for state, count in connection.execute(
            select(jobs.c.state, func.count()).group_by(jobs.c.state)
        ):
            JOBS.labels(state=state).set(count)
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
