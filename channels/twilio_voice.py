"""IVR calls through Twilio Programmable Voice, with the real ``twilio`` client.

The call is opened in ccm first (``ivr_calls``: the script and where the call stands),
then placed at Twilio with ccm's TwiML URL for it, ``/v1/webhooks/twilio/voice/<token>``,
and a status callback beside it; the flow itself is served by ``api/routes/voice.py``.
Recordings are fetched from Twilio by their SID (never from a URL a callback names) when
the pipeline records the call's proof, and kept as artefacts.

Errors: 4xx other than 429 (an invalid number, an unverified caller id: 21210, 21211,
21215...) fail the channel for good; 429, 5xx and network errors are retried. A retry
after Twilio placed the call finds the call's SID and places nothing again; a worker
dying between Twilio's 201 and recording the SID calls again (Twilio takes no
idempotency key for calls).
"""

import json
import re
from collections.abc import Callable
from datetime import datetime

import httpx
from sqlalchemy import Engine
from twilio.base.exceptions import TwilioException
from twilio.rest import Client

from ccm.errors import ChannelError, PermanentChannelError
from ccm.ports import OutgoingMessage, SendReceipt
from ccm.service.ivr import open_call, set_call_sid
from channels.base import CallbackChannel, now, receipt
from channels.twilio_messaging import twilio_error

__all__ = ["CALL_EVENTS", "TwilioVoiceChannel"]

CALL_EVENTS = ["initiated", "ringing", "answered", "completed"]
_RECORDING_SID = re.compile(r"^RE[0-9a-f]{32}$")


class TwilioVoiceChannel(CallbackChannel):
    """Implements :class:`ccm.ports.ChannelAdapter` and :class:`ccm.ports.RecordingSource`
    for ``ivr``."""

    channel = "ivr"
    provider = "twilio"

    def __init__(
        self,
        engine: Engine,
        client: Client,
        *,
        caller_id: str,
        public_base_url: str,
        auth_token: str,
        api_base_url: str = "https://api.twilio.com",
        clock: Callable[[], datetime] = now,
    ) -> None:
        self._engine = engine
        self._client = client
        self._auth = (str(client.account_sid), auth_token)
        self._api = api_base_url.rstrip("/")
        self._caller_id = caller_id
        self._base = public_base_url.rstrip("/") + "/v1/webhooks/twilio/voice"
        self._clock = clock

    def send(self, message: OutgoingMessage) -> SendReceipt:
        """Place the call; its SID is the provider message id.

        Raises:
            PermanentChannelError: Twilio refused it for good (4xx other than 429).
            ChannelError: rate limited, Twilio unavailable, the network.
        """
        call = open_call(
            self._engine,
            communication_id=message.communication_id,
            idempotency_key=message.idempotency_key,
            script=json.loads(message.payload),
            now=self._clock(),
        )
        url = f"{self._base}/{call.token}"
        if call.call_sid:  # placed before; the worker died before recording it
            return receipt(self.provider, call.call_sid, self._clock(), sid=call.call_sid)
        try:
            created = self._client.calls.create(
                to=message.address,
                from_=self._caller_id,
                url=url,
                method="POST",
                status_callback=f"{url}/status",
                status_callback_event=CALL_EVENTS,
                status_callback_method="POST",
            )
        except (TwilioException, OSError) as error:
            raise twilio_error(error) from error
        set_call_sid(self._engine, call.token, str(created.sid), now=self._clock())
        return receipt(
            self.provider,
            str(created.sid),
            self._clock(),
            sid=created.sid,
            status=created.status,
            to=created.to,
            **{"from": created._from},  # noqa: SLF001 - the SDK's name for "from"
        )

    def fetch_recording(self, recording_id: str) -> tuple[bytes, str]:
        """The WAV of recording ``recording_id`` (``RE`` + 32 hex digits).

        Raises:
            PermanentChannelError: not a recording SID.
            ChannelError: Twilio did not serve it (yet); try again later.
        """
        if not _RECORDING_SID.match(recording_id):
            raise PermanentChannelError(f"not a Twilio recording SID: {recording_id!r}")
        # The SDK reads responses as text; the audio is fetched as bytes, with its auth.
        url = f"{self._api}/2010-04-01/Accounts/{self._auth[0]}/Recordings/{recording_id}.wav"
        try:
            response = httpx.get(url, auth=self._auth, follow_redirects=True, timeout=60)
        except httpx.HTTPError as error:
            raise ChannelError(f"twilio recording {recording_id}: {error}") from error
        if response.status_code != 200:  # 404 too: a fresh recording may not be served yet
            raise ChannelError(f"twilio recording {recording_id}: HTTP {response.status_code}")
        return response.content, "audio/wav"

    # Twilio calls back: /v1/webhooks/twilio/voice/<token>[/identity|/options|/status|/recording].
