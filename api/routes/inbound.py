"""``/v1/inbound``: what comes back from recipients and providers.

``POST /v1/inbound/email`` takes one raw message (``message/rfc822``) that arrived at the
operator's bounce or receipt mailbox: a read receipt (RFC 8098) or a delivery status
notification (RFC 3464). It is matched by the original Message-ID to the communication
and recorded as evidence (a receipt "displayed" is the e-mail's legal proof, rule R14;
a failed DSN is a handover failure). Post it from the mail server (a pipe alias, a
Sieve/procmail rule) or let ``ccm inbound imap`` read the mailbox.
"""

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, status
from pydantic import BaseModel

from api.deps import Services, require, services
from api.schemas import ErrorOut
from ccm.errors import DataError, DataValidationError
from ccm.service.keys import ApiKey, Role
from channels.mail_reports import record_report

__all__ = ["InboundOut", "email", "router"]

router = APIRouter(prefix="/v1/inbound", tags=["inbound"])


class InboundOut(BaseModel):
    communication_id: str | None
    kind: str
    recorded: bool
    """False for what is not evidence (a "delayed" DSN)."""


@router.post(
    "/email",
    response_model=InboundOut,
    status_code=status.HTTP_202_ACCEPTED,
    responses={404: {"model": ErrorOut}, 415: {"model": ErrorOut}, 422: {"model": ErrorOut}},
    openapi_extra={"requestBody": {"content": {"message/rfc822": {"schema": {"type": "string"}}}}},
)
async def email(
    request: Request,
    svc: Annotated[Services, Depends(services)],
    key: Annotated[ApiKey, Depends(require(Role.GATEWAY))],
) -> InboundOut:
    """Record a read receipt or a delivery status notification."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "message/rfc822":
        raise HTTPException(
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, "send the raw message as message/rfc822"
        )
    raw = await request.body()
    outcome = record_report(svc.engine, svc.store, raw, now=datetime.now(UTC))
    report = outcome.report
    if report is None:
        raise DataValidationError(
            [
                DataError(
                    path="body",
                    message="must be a read receipt (RFC 8098) or a delivery status "
                    "notification (RFC 3464) naming the original Message-ID",
                )
            ]
        )
    if report.kind == "delayed":
        return InboundOut(communication_id=None, kind=report.kind, recorded=False)
    if outcome.communication_id is None:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND,
            f"no e-mail sent by ccm has Message-ID {report.original_message_id}",
        )
    return InboundOut(communication_id=outcome.communication_id, kind=report.kind, recorded=True)
