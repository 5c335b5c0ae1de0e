"""``/v1/webhooks/twilio``: Twilio's status callbacks and the recipients' replies.

Twilio signs each request (``X-Twilio-Signature``: HMAC of the URL it called and the form
fields, keyed with the auth token). The URL is rebuilt from ``CCM_PUBLIC_BASE_URL``, as
Twilio saw it; a missing or wrong signature is 403 and nothing is read.

Every callback is kept (as the sorted form fields, in JSON) and recorded once: a repeated
callback has the same bytes and the same event id. Out of order is fine: the timeline
keeps every signal and a delivery's state only moves forward.
"""

import json
import re
import unicodedata
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, Response, status
from twilio.request_validator import RequestValidator

from api.deps import Services, services
from ccm.service.inbound import InboundSignal, awaiting_reply, record_signal

__all__ = ["inbound_message", "message_status", "router", "twilio_form"]

router = APIRouter(prefix="/v1/webhooks/twilio", tags=["webhooks"])

_EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
_KINDS = {"delivered": "delivered", "read": "read", "failed": "bounce", "undelivered": "bounce"}


async def twilio_form(
    request: Request, svc: Annotated[Services, Depends(services)]
) -> dict[str, str]:
    """The form fields of a request Twilio signed, or 403 (404 when Twilio is not set up)."""
    token = svc.settings.twilio_auth_token
    if token is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Twilio is not configured")
    form = await request.form()
    fields = {key: str(value) for key, value in form.multi_items()}
    url = str(svc.settings.public_base_url).rstrip("/") + request.url.path
    if request.url.query:
        url += "?" + request.url.query
    signature = request.headers.get("X-Twilio-Signature", "")
    if not RequestValidator(token.get_secret_value()).validate(url, form, signature):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "invalid or missing X-Twilio-Signature")
    return fields


def _raw(fields: dict[str, str]) -> bytes:
    return json.dumps(fields, sort_keys=True, ensure_ascii=False).encode()


@router.post("/status", status_code=status.HTTP_204_NO_CONTENT, response_class=Response)
def message_status(
    fields: Annotated[dict[str, str], Depends(twilio_form)],
    svc: Annotated[Services, Depends(services)],
) -> Response:
    """A message's status: delivered and read are recorded, failed and undelivered fail
    the channel; queued, sending and sent add nothing to the relay receipt."""
    kind = _KINDS.get(fields.get("MessageStatus", "").lower())
    sid = fields.get("MessageSid") or fields.get("SmsSid")
    if kind is None or not sid:
        return Response(status_code=status.HTTP_204_NO_CONTENT)
    details = {}
    if kind == "bounce":
        code = fields.get("ErrorCode", "")
        details["reason"] = f"twilio {fields['MessageStatus']} {code}".strip()
    signal = InboundSignal(
        channel=None,
        provider="twilio",
        provider_message_id=sid,
        kind=kind,
        raw=_raw(fields),
        media_type="application/json",
        details=details,
    )
    # A callback may beat our own record of the send: hold it until the send is recorded.
    record_signal(svc.engine, svc.store, signal, now=datetime.now(UTC), hold=True)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def _first_word(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    words = re.findall(r"[A-Za-z]+", plain)
    return words[0].upper() if words else ""


@router.post("/inbound", response_class=Response)
def inbound_message(
    fields: Annotated[dict[str, str], Depends(twilio_form)],
    svc: Annotated[Services, Depends(services)],
) -> Response:
    """A message from a recipient. From the number a notice went to, it answers the latest
    one awaiting proof: a confirming keyword is the legal proof (rule R15), a dispute
    keyword opens a dispute, any other text is kept as an unrecognised reply."""
    sender = fields.get("From", "")
    channel = "whatsapp" if sender.startswith("whatsapp:") else "sms"
    phone = sender.removeprefix("whatsapp:")
    found = awaiting_reply(svc.engine, channel, phone)
    if found is not None:
        keyword = _first_word(fields.get("Body", ""))
        settings = svc.settings
        if keyword in {k.upper() for k in settings.reply_confirm_keywords}:
            kind = "reply"
        elif keyword in {k.upper() for k in settings.reply_dispute_keywords}:
            kind = "dispute"
        else:
            kind = "reply_other"
        signal = InboundSignal(
            channel=channel,
            provider="twilio",
            provider_message_id=found[1],
            kind=kind,
            raw=_raw(fields),  # the reply verbatim, with Twilio's SID for it
            media_type="application/json",
            details={"keyword": keyword} if kind != "reply_other" else {},
        )
        record_signal(svc.engine, svc.store, signal, now=datetime.now(UTC))
    return Response(_EMPTY_TWIML, media_type="application/xml")
