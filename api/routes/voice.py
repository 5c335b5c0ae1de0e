"""``/v1/webhooks/twilio/voice/<token>``: the IVR call flow Twilio plays, in TwiML.

Twilio fetches ``/<token>`` when the call is answered, posts the keypad answers to
``/<token>/identity`` and ``/<token>/options``, the call's progress to ``/<token>/status``
and the recording's to ``/<token>/recording``. Every request must carry a valid
``X-Twilio-Signature`` (403 otherwise); an unknown token is 404. The procedure and what
it proves are :mod:`ccm.service.ivr`'s; this module only speaks TwiML.
"""

import json
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Response, status
from twilio.twiml.voice_response import Gather, VoiceResponse

from api.deps import Services, services
from api.routes.webhooks import twilio_form
from ccm.service import ivr
from ccm.service.communications import get_communication
from ccm.service.inbound import InboundSignal, record_signal

__all__ = [
    "router",
    "voice_answered",
    "voice_identity",
    "voice_options",
    "voice_recording",
    "voice_status",
]

router = APIRouter(prefix="/v1/webhooks/twilio/voice", tags=["webhooks"])

Form = Annotated[dict[str, str], Depends(twilio_form)]
Svc = Annotated[Services, Depends(services)]
_TIMEOUT_SECONDS = 8


def _call(svc: Services, token: str) -> ivr.IvrCall:
    found = ivr.call_state(svc.engine, token)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such call")
    return found


def _stray(call: ivr.IvrCall, fields: dict[str, str]) -> bool:
    """A request about another call than the one placed for this token (a second call
    placed after a worker crash): it must not move this call's state."""
    sid = fields.get("CallSid", "")
    return bool(call.call_sid and sid and sid != call.call_sid)


def _twiml(svc: Services, call: ivr.IvrCall, plan: ivr.Plan) -> Response:
    """The plan as TwiML, every URL absolute (as Twilio was told them)."""
    base = f"{str(svc.settings.public_base_url).rstrip('/')}{router.prefix}/{call.token}"
    language = str(call.script.get("language", "pt-BR"))
    say = {"language": language, "voice": svc.settings.twilio_voices.get(language)}
    response = VoiceResponse()
    for step in plan:
        if isinstance(step, ivr.Say):
            response.say(step.text, **say)
        elif isinstance(step, ivr.Ask):
            gather = Gather(
                input="dtmf",
                num_digits=step.digits,
                timeout=_TIMEOUT_SECONDS,
                action=f"{base}/{step.step}",
                method="POST",
                action_on_empty_result=True,
            )
            gather.say(step.prompt, **say)
            response.append(gather)
        elif isinstance(step, ivr.StartRecording):
            response.start().recording(
                recording_status_callback=f"{base}/recording",
                recording_status_callback_method="POST",
                recording_status_callback_event="completed absent",
            )
        elif isinstance(step, ivr.Transfer):
            response.dial(step.number)
        else:
            response.hangup()
    return Response(str(response), media_type="application/xml")


def _record(svc: Services, token: str, signals: list[InboundSignal]) -> None:
    for signal in signals:  # held if the worker has not recorded the call's send yet
        record_signal(svc.engine, svc.store, signal, now=datetime.now(UTC), hold=True)
    if any(s.kind in {"call_confirmed", "call_failed"} for s in signals):
        ivr.mark_concluded(svc.engine, token, now=datetime.now(UTC))


@router.post("/{token}", response_class=Response)
def voice_answered(token: str, fields: Form, svc: Svc) -> Response:
    """The call was answered: greeting, recording notice, the first identity item."""
    call = _call(svc, token)
    if _stray(call, fields):
        return _twiml(svc, call, [ivr.HangUp()])
    plan = ivr.answer(svc.engine, token, call_sid=fields.get("CallSid", ""), now=datetime.now(UTC))
    return _twiml(svc, call, plan)


@router.post("/{token}/identity", response_class=Response)
def voice_identity(token: str, fields: Form, svc: Svc) -> Response:
    """One identity item typed (or the timeout): compared, then forgotten."""
    call = _call(svc, token)
    if _stray(call, fields):
        return _twiml(svc, call, [ivr.HangUp()])
    record = get_communication(svc.engine, call.communication_id)
    assert record is not None  # the call was opened for it
    expected = ivr.expected_identity(record, call.script["identity_items"])
    digits = fields.get("Digits", "")
    plan = ivr.identity(svc.engine, token, digits, expected, now=datetime.now(UTC))
    return _twiml(svc, call, plan)


@router.post("/{token}/options", response_class=Response)
def voice_options(token: str, fields: Form, svc: Svc) -> Response:
    """After the notice: 1 repeat, 2 dispute, 3 an attendant, nothing goodbye."""
    call = _call(svc, token)
    if _stray(call, fields):
        return _twiml(svc, call, [ivr.HangUp()])
    transfer_to = svc.settings.ivr_agent_number or call.script.get("operator_phone") or None
    plan, signals = ivr.option(
        svc.engine, token, fields.get("Digits", ""), transfer_to=transfer_to, now=datetime.now(UTC)
    )
    _record(svc, token, signals)
    return _twiml(svc, call, plan)


@router.post("/{token}/status", status_code=status.HTTP_204_NO_CONTENT, response_class=Response)
def voice_status(token: str, fields: Form, svc: Svc) -> Response:
    """The call's progress (Twilio's ``CallStatus``)."""
    if _stray(_call(svc, token), fields):
        return Response(status_code=status.HTTP_204_NO_CONTENT)
    raw = json.dumps(fields, sort_keys=True, ensure_ascii=False).encode()
    signals = ivr.call_status(
        svc.engine,
        token,
        fields.get("CallStatus", ""),
        call_sid=fields.get("CallSid", ""),
        now=datetime.now(UTC),
        raw=raw,
    )
    _record(svc, token, signals)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{token}/recording", status_code=status.HTTP_204_NO_CONTENT, response_class=Response)
def voice_recording(token: str, fields: Form, svc: Svc) -> Response:
    """The recording is complete (fetched by the worker, by its SID) or absent."""
    if _stray(_call(svc, token), fields):
        return Response(status_code=status.HTTP_204_NO_CONTENT)
    signals = ivr.recording_status(
        svc.engine,
        token,
        fields.get("RecordingSid", ""),
        fields.get("RecordingStatus", ""),
        now=datetime.now(UTC),
    )
    _record(svc, token, signals)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
