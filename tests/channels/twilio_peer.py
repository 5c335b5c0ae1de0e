"""A Twilio-compatible HTTP peer on loopback, for the real ``twilio`` client.

It checks Basic auth and the fields Twilio requires, answers 201 with the resource, or
Twilio's own errors (21211 for an invalid number: numbers ending in 0000; 20429 when
told to throttle), and sends status callbacks and incoming messages signed exactly as
Twilio signs them (``X-Twilio-Signature``), through ``deliver`` (the app's transport).
Calls (``Calls.json``) are kept for the test to play: ``exchange`` posts a signed request
and returns the app's answer (TwiML); recordings put in ``recordings`` are served as
Twilio serves them (``GET .../Recordings/<sid>.wav``, Basic auth).
"""

import base64
import json
import threading
import urllib.parse
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from twilio.request_validator import RequestValidator

__all__ = ["TwilioPeer"]

Deliver = Callable[[str, dict[str, str], dict[str, str]], int]
"""``deliver(url, form, headers)`` -> the app's HTTP status."""
Exchange = Callable[[str, dict[str, str], dict[str, str]], tuple[int, str]]
"""``exchange(url, form, headers)`` -> the app's HTTP status and body."""


class TwilioPeer:
    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        deliver: Deliver,
        exchange: Exchange | None = None,
    ) -> None:
        self.account_sid, self.auth_token = account_sid, auth_token
        self.deliver = deliver
        self.exchange = exchange
        self.messages: list[dict[str, str]] = []
        self.calls: list[dict[str, Any]] = []
        self.recordings: dict[str, bytes] = {}
        self.recording_fetches: list[str] = []
        self.throttle = False
        peer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _reply(self, code: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _authorized(self) -> bool:
                token = f"{peer.account_sid}:{peer.auth_token}".encode()
                expected = "Basic " + base64.b64encode(token).decode()
                if self.headers.get("Authorization") == expected:
                    return True
                self._reply(401, {"code": 20003, "message": "Authenticate", "status": 401})
                return False

            def do_GET(self) -> None:  # noqa: N802 - http.server's hook name
                if not self._authorized():
                    return
                prefix = f"/2010-04-01/Accounts/{peer.account_sid}/Recordings/"
                sid = self.path.removeprefix(prefix).removesuffix(".wav")
                audio = peer.recordings.get(sid) if self.path.startswith(prefix) else None
                if audio is None:
                    return self._reply(404, {"code": 20404, "message": "Not found", "status": 404})
                peer.recording_fetches.append(sid)
                self.send_response(200)
                self.send_header("Content-Type", "audio/x-wav")
                self.send_header("Content-Length", str(len(audio)))
                self.end_headers()
                self.wfile.write(audio)
                return None

            def do_POST(self) -> None:  # noqa: N802 - http.server's hook name
                length = int(self.headers.get("Content-Length", 0))
                fields = urllib.parse.parse_qs(
                    self.rfile.read(length).decode(), keep_blank_values=True
                )
                form = {k: v[0] for k, v in fields.items()}
                if not self._authorized():
                    return None
                if self.path == f"/2010-04-01/Accounts/{peer.account_sid}/Calls.json":
                    return self._call(form, fields)
                if self.path != f"/2010-04-01/Accounts/{peer.account_sid}/Messages.json":
                    return self._reply(404, {"code": 20404, "message": "Not found", "status": 404})
                if peer.throttle:
                    return self._reply(
                        429, {"code": 20429, "message": "Too Many Requests", "status": 429}
                    )
                if not form.get("To") or not form.get("From"):
                    return self._reply(
                        400, {"code": 21604, "message": "'To' required", "status": 400}
                    )
                if form["To"].endswith("0000"):
                    message = f"The 'To' number {form['To']} is not a valid phone number."
                    return self._reply(400, {"code": 21211, "message": message, "status": 400})
                sid = "SM" + uuid.uuid4().hex
                peer.messages.append({**form, "Sid": sid})
                self._reply(201, {"sid": sid, "account_sid": peer.account_sid, "to": form["To"],
                                  "from": form["From"], "body": form.get("Body"),
                                  "status": "queued"})  # fmt: skip
                return None

            def _call(self, form: dict[str, str], fields: dict[str, list[str]]) -> None:
                if not form.get("To") or not form.get("From") or not form.get("Url"):
                    return self._reply(
                        400, {"code": 21205, "message": "Url required", "status": 400}
                    )
                if form["To"].endswith("0000"):
                    message = (
                        f"The phone number you are attempting to call, {form['To']}, is not valid."
                    )
                    return self._reply(400, {"code": 21217, "message": message, "status": 400})
                sid = "CA" + uuid.uuid4().hex
                peer.calls.append(
                    {**form, "Sid": sid, "StatusCallbackEvent": fields.get("StatusCallbackEvent")}
                )
                self._reply(201, {"sid": sid, "account_sid": peer.account_sid, "to": form["To"],
                                  "from": form["From"], "status": "queued"})  # fmt: skip
                return None

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def signed(self, url: str, form: dict[str, str]) -> int:
        """POST ``form`` to ``url`` with the signature Twilio would compute."""
        signature = RequestValidator(self.auth_token).compute_signature(url, form)
        return self.deliver(url, form, {"X-Twilio-Signature": signature})

    def status(self, message: dict[str, str], status: str, **extra: str) -> int:
        """The status callback Twilio sends for ``message``."""
        form = {"MessageSid": message["Sid"], "SmsSid": message["Sid"], "MessageStatus": status,
                "AccountSid": self.account_sid, "From": message["From"], "To": message["To"],
                "ApiVersion": "2010-04-01", **extra}  # fmt: skip
        return self.signed(message["StatusCallback"], form)

    def incoming(self, url: str, sender: str, to: str, body: str) -> int:
        """A message from ``sender``, as Twilio posts it to the number's webhook."""
        form = {"MessageSid": "SM" + uuid.uuid4().hex, "AccountSid": self.account_sid,
                "From": sender, "To": to, "Body": body, "NumMedia": "0"}  # fmt: skip
        return self.signed(url, form)

    def call_request(self, call: dict[str, Any], url: str, **extra: str) -> tuple[int, str]:
        """POST what Twilio posts to a call's TwiML or callback ``url``; the app's answer."""
        assert self.exchange is not None, "give the peer an exchange to play calls"
        form = {"CallSid": call["Sid"], "AccountSid": self.account_sid, "From": call["From"],
                "To": call["To"], "Direction": "outbound-api", "ApiVersion": "2010-04-01",
                "CallStatus": "in-progress", **extra}  # fmt: skip
        signature = RequestValidator(self.auth_token).compute_signature(url, form)
        return self.exchange(url, form, {"X-Twilio-Signature": signature})

    def call_status(self, call: dict[str, Any], status: str, **extra: str) -> int:
        """The call's status callback (``initiated``... ``completed``, ``no-answer``)."""
        code, _ = self.call_request(call, call["StatusCallback"], CallStatus=status, **extra)
        return code
