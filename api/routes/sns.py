"""``POST /v1/webhooks/ses/sns``: Amazon SES events, delivered by Amazon SNS.

Subscribe this URL (HTTPS) to the SNS topic of the SES configuration set's event
destination (or of the identity's feedback notifications) and list the topic in
``CCM_SES_SNS_TOPIC_ARNS``. An unauthentic message is 403 and nothing is read from it;
a subscription is confirmed on arrival. What each event means: :mod:`channels.ses_events`.
"""

import functools
import json
import re
from datetime import UTC, datetime
from typing import Annotated, Any

import httpx
from fastapi import APIRouter, Depends, HTTPException, Request, Response, status
from fastapi.concurrency import run_in_threadpool

from api.deps import Services, services
from ccm.errors import DataError, DataValidationError
from ccm.service.inbound import record_signal
from channels.ses_events import SnsError, ses_signal, verify_sns

__all__ = ["router", "sns_message"]

router = APIRouter(prefix="/v1/webhooks/ses", tags=["webhooks"])


@functools.lru_cache(maxsize=16)
def _certificate(url: str) -> bytes:
    """The PEM at ``url`` (SNS rotates certificates rarely: kept per process)."""
    response = httpx.get(url, timeout=10)
    response.raise_for_status()
    return response.content


@router.post("/sns", status_code=status.HTTP_204_NO_CONTENT, response_class=Response)
async def sns_message(request: Request, svc: Annotated[Services, Depends(services)]) -> Response:
    """One SNS message: a subscription to confirm, or an SES event to record."""
    if not svc.settings.ses_sns_topic_arns:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "SES events are not configured")
    raw = await request.body()
    await run_in_threadpool(_handle, svc, raw)  # fetches and the database block
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def _handle(svc: Services, raw: bytes) -> None:
    settings = svc.settings
    try:
        message: Any = json.loads(raw)
    except ValueError:
        message = None
    if not isinstance(message, dict):
        raise DataValidationError([DataError(path="body", message="must be an SNS JSON message")])
    pattern = re.compile(settings.sns_certificate_url_pattern)
    try:
        verify_sns(
            message,
            url_pattern=pattern,
            topics=frozenset(settings.ses_sns_topic_arns),
            certificate=_certificate,
        )
    except (SnsError, httpx.HTTPError, httpx.InvalidURL) as error:
        detail = f"not an authentic SNS message: {error}"
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail) from error
    if message["Type"] == "SubscriptionConfirmation":
        url = str(message["SubscribeURL"])
        if not pattern.fullmatch(url):
            raise HTTPException(status.HTTP_403_FORBIDDEN, "SubscribeURL: not Amazon SNS's")
        try:
            httpx.get(url, timeout=10).raise_for_status()
        except (httpx.HTTPError, httpx.InvalidURL) as error:  # SNS sends it again later
            raise HTTPException(
                status.HTTP_503_SERVICE_UNAVAILABLE, f"could not confirm the subscription: {error}"
            ) from error
        return
    if message["Type"] != "Notification":
        return
    try:
        signal = ses_signal(message, raw)
    except SnsError as error:
        raise DataValidationError([DataError(path="Message", message=str(error))]) from error
    if signal is not None:  # held if the worker has not recorded the send yet
        record_signal(svc.engine, svc.store, signal, now=datetime.now(UTC), hold=True)
