"""IVR calls through the real ``twilio`` client against a Twilio-compatible peer: the call
is placed, its pt-BR TwiML flow played with signed requests (identity by keypad, then the
notice and the options), the recording fetched and kept, and what the call proves."""

import hashlib
import io
import json
import time
import urllib.parse
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ccm.evidence.verify import verify_pack
from ccm.persistence.tables import ivr_calls, jobs
from signing import DevelopmentPki
from signing.verification import OfflineVerifier
from tests.api.conftest import Service, request_body, running_service
from tests.channels.twilio_peer import TwilioPeer

pytestmark = pytest.mark.xdist_group("twilio")
__all__ = ["request_body"]  # the fixture, shared with the API tests

SID, TOKEN = "AC" + "2" * 32, "token-de-voz"
PUBLIC = "https://ccm.example.com"
VOICE_FROM = "+5511400000003"
RIGHT = {"cpf_prefix": "284", "cpf_suffix": "46", "birth_year": "1979"}
"""The request's payer: CPF 284.197.365-46, born in 1979."""


class Twilio:
    peer: TwilioPeer
    service: Service


@pytest.fixture(scope="module")
def twilio(tmp_path_factory: pytest.TempPathFactory, pki: Any, home: Path) -> Iterator[Twilio]:
    box = Twilio()

    def exchange(url: str, form: dict[str, str], headers: dict[str, str]) -> tuple[int, str]:
        path = urllib.parse.urlsplit(url).path  # Twilio calls the public URL; we are it
        response = box.service.client.post(path, data=form, headers=headers)
        return response.status_code, response.text

    def deliver(url: str, form: dict[str, str], headers: dict[str, str]) -> int:
        return exchange(url, form, headers)[0]

    box.peer = TwilioPeer(SID, TOKEN, deliver, exchange)
    with running_service(
        tmp_path_factory.mktemp("voice"),
        home,
        public_base_url=PUBLIC,
        twilio_account_sid=SID,
        twilio_auth_token=TOKEN,
        twilio_voice_from=VOICE_FROM,
        twilio_api_base_url=box.peer.base_url,
        ivr_agent_number="+5511300000000",
    ) as service:
        box.service = service
        yield box
    box.peer.close()


class Call:
    """One call as Twilio plays it: the app's TwiML, read and answered step by step."""

    def __init__(self, twilio: Twilio, phone: str) -> None:
        self.peer = twilio.peer
        deadline = time.monotonic() + 30
        while not [c for c in self.peer.calls if c["To"] == phone]:
            assert time.monotonic() < deadline, f"no call reached the Twilio peer for {phone}"
            time.sleep(0.05)
        self.call = [c for c in self.peer.calls if c["To"] == phone][-1]
        self.heard: list[str] = []
        self.twiml = ET.Element("Response")

    def _play(self, url: str, **form: str) -> ET.Element:
        code, text = self.peer.call_request(self.call, url, **form)
        assert code == 200, text
        self.twiml = ET.fromstring(text)
        self.heard += [say.text or "" for say in self.twiml.iter("Say")]
        return self.twiml

    def answer(self) -> ET.Element:
        return self._play(self.call["Url"])

    def press(self, digits: str) -> ET.Element:
        """Type ``digits`` at the current prompt (empty: let it time out)."""
        gather = self.twiml.find("Gather")
        assert gather is not None, ET.tostring(self.twiml)
        return self._play(gather.attrib["action"], Digits=digits)

    def recording_url(self) -> str:
        recording = self.twiml.find("Start/Recording")
        assert recording is not None, ET.tostring(self.twiml)
        return recording.attrib["recordingStatusCallback"]

    def record(self, url: str, audio: bytes, status: str = "completed") -> str:
        sid = "RE" + hashlib.md5(audio).hexdigest()  # noqa: S324 - an id, not a digest
        self.peer.recordings[sid] = audio
        code, _ = self.peer.call_request(
            self.call,
            url,
            RecordingSid=sid,
            RecordingStatus=status,
            RecordingUrl=f"https://api.twilio.com/2010-04-01/Accounts/{SID}/Recordings/{sid}",
            RecordingSource="StartCallRecordingTwiML",
            RecordingDuration="41",
        )
        assert code == 204
        return sid

    def confirm_identity(self, answers: dict[str, str] = RIGHT) -> ET.Element:
        for item in ("cpf_prefix", "cpf_suffix", "birth_year"):
            self.press(answers[item])
        return self.twiml


def _send(twilio: Twilio, body: dict[str, Any], phone: str) -> str:
    body["recipient"]["phone"] = phone
    body["channels"] = ["ivr"]
    response = twilio.service.client.post(
        "/v1/communications", json=body, headers=twilio.service.auth("submitter")
    )
    assert response.status_code == 202, response.text
    return str(response.json()["id"])


def _events(service: Service, communication_id: str, kind: str) -> list[dict[str, Any]]:
    events = service.client.get(
        f"/v1/communications/{communication_id}/events", headers=service.auth("legal")
    ).json()
    return [e for e in events if e["type"] == kind]


def _wait_events(service: Service, communication_id: str, kind: str) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 30
    while not (found := _events(service, communication_id, kind)):
        assert time.monotonic() < deadline, f"no {kind} recorded"
        time.sleep(0.1)
    return found


def test_a_confirmed_and_recorded_call_is_the_legal_proof(
    twilio: Twilio, request_body: dict[str, Any], pki: DevelopmentPki
) -> None:
    service, peer = twilio.service, twilio.peer
    communication_id = _send(twilio, request_body, "+5511987650001")
    call = Call(twilio, "+5511987650001")
    assert call.call["From"] == VOICE_FROM and call.call["Url"].startswith(
        f"{PUBLIC}/v1/webhooks/twilio/voice/"
    )
    assert call.call["StatusCallback"] == call.call["Url"] + "/status"
    assert call.call["StatusCallbackEvent"] == ["initiated", "ringing", "answered", "completed"]
    assert service.wait_for(communication_id, "sent", seconds=10)["status"] == "sent"

    first = call.answer()
    says = first.findall("Say")
    assert all(s.attrib == {"language": "pt-BR", "voice": "Polly.Camila"} for s in says)
    assert "ligação está sendo gravada" in call.heard[1]
    gather = first.find("Gather")
    assert gather is not None and gather.attrib["numDigits"] == "3"
    assert gather.attrib["input"] == "dtmf" and gather.attrib["actionOnEmptyResult"] == "true"
    assert first.find("Start") is None  # nothing recorded before the identity is confirmed
    assert peer.call_status(call.call, "in-progress") == 204  # answered: the hand-over

    notice = call.confirm_identity()
    before = " ".join(call.heard[:-2])
    assert "R$" not in before and "débito" not in before  # nothing disclosed before that
    assert "R$" in call.heard[-2] and "rescindido" in call.heard[-2]
    recording = call.recording_url()
    assert notice.find("Gather/Say") is not None and "digite 2" in call.heard[-1]

    call.press("")  # options heard, nothing typed: goodbye
    assert call.twiml.find("Hangup") is not None and "agradece" in call.heard[-1]
    audio = b"RIFF-gravacao-da-ligacao" + bytes(range(256)) * 40
    assert peer.call_status(call.call, "completed", CallDuration="95") == 204
    assert service.wait_for(communication_id, "delivered")["status"] == "delivered"
    sid = call.record(recording, audio)

    proven = service.wait_for(communication_id, "proven")
    assert proven["status"] == "proven" and proven["proof"]["rule"] == "R16"
    assert peer.recording_fetches == [sid]
    with service.engine.connect() as connection:
        errors = connection.execute(
            jobs.select().where(jobs.c.communication_id == communication_id)
        ).mappings()
        assert [job["last_error"] for job in errors] == [None] * 4  # compose, send, 2 signals
    [accepted] = _events(service, communication_id, "recipient_accepted")
    assert accepted["actor"] == "recipient" and accepted["channel"] == "ivr"
    assert accepted["details"]["method"] == "data_confirmation"
    assert accepted["details"]["identity_items"] == "cpf_prefix,cpf_suffix,birth_year"
    roles = {a["role"]: a["sha256"] for a in accepted["artifacts"]}
    assert roles["recording"] == hashlib.sha256(audio).hexdigest()

    pack = service.client.get(
        f"/v1/communications/{communication_id}/evidence-pack", headers=service.auth("legal")
    )
    assert verify_pack(pack.content, verifier=OfflineVerifier([pki.ca()])).ok
    with zipfile.ZipFile(io.BytesIO(pack.content)) as archive:
        names = archive.namelist()
        [kept] = [n for n in names if n.startswith(f"artifacts/{roles['recording']}")]
        assert archive.read(kept) == audio
        [log_name] = [n for n in names if n.startswith(f"artifacts/{roles['ivr_record']}")]
        log = json.loads(archive.read(log_name))
    events = [entry["event"] for entry in log["log"]]
    assert events[:2] == ["answered", "identity_confirmed"] and "goodbye" in events
    # What the person typed is kept nowhere: not in the call's log, not in its row.
    with service.engine.connect() as connection:
        row = connection.execute(ivr_calls.select()).mappings().all()
    stored = json.dumps(log) + json.dumps([dict(r) for r in row], default=str)
    assert "1979" not in stored and '"284"' not in stored and "Digits" not in stored


def test_wrong_answers_end_the_call_without_the_notice(
    twilio: Twilio, request_body: dict[str, Any]
) -> None:
    service = twilio.service
    communication_id = _send(twilio, request_body, "+5511987650002")
    call = Call(twilio, "+5511987650002")
    call.answer()
    wrong = {**RIGHT, "cpf_suffix": "99"}
    call.confirm_identity(wrong)  # the round fails at its end, not at the wrong item
    assert call.twiml.find("Gather") is not None and "confirmar alguns dados" in call.heard[-2]
    call.confirm_identity(wrong)
    call.press("")  # a timeout counts as a wrong answer
    call.press("")
    call.press("")
    assert call.twiml.find("Hangup") is not None
    assert "Não foi possível confirmar" in call.heard[-1]
    assert not any("R$" in said for said in call.heard)
    assert twilio.peer.call_status(call.call, "completed") == 204

    failed = service.wait_for(communication_id, "failed")
    assert failed["status"] == "failed"
    [event] = _wait_events(service, communication_id, "handover_failed")
    assert event["reasons"] == ["identity not confirmed after 3 rounds"]
    assert not _events(service, communication_id, "recipient_accepted")


def test_a_dispute_on_the_keypad_is_recorded_and_the_notice_still_proven(
    twilio: Twilio, request_body: dict[str, Any]
) -> None:
    service = twilio.service
    communication_id = _send(twilio, request_body, "+5511987650003")
    call = Call(twilio, "+5511987650003")
    call.answer()
    call.confirm_identity()
    recording = call.recording_url()
    call.press("1")  # repeat
    assert "R$" in call.heard[-2]
    call.press("2")  # dispute
    assert "contestação do débito foi registrada" in call.heard[-2]
    [dispute] = _wait_events(service, communication_id, "recipient_rejected")
    assert dispute["details"]["method"] == "ivr" and dispute["details"]["keyword"] == "2"
    assert twilio.peer.call_status(call.call, "completed") == 204
    call.record(recording, b"RIFF-contestacao")
    assert service.wait_for(communication_id, "proven")["proof"]["rule"] == "R16"


def test_option_three_transfers_to_an_attendant(
    twilio: Twilio, request_body: dict[str, Any]
) -> None:
    _send(twilio, request_body, "+5511987650004")
    call = Call(twilio, "+5511987650004")
    call.answer()
    call.confirm_identity()
    call.press("3")
    dial = call.twiml.find("Dial")
    assert dial is not None and dial.text == "+5511300000000"
    assert "transferir" in call.heard[-1]


def test_a_call_not_answered_or_cut_during_the_notice_proves_nothing(
    twilio: Twilio, request_body: dict[str, Any]
) -> None:
    service = twilio.service
    unanswered = _send(twilio, request_body, "+5511987650005")
    call = Call(twilio, "+5511987650005")
    assert twilio.peer.call_status(call.call, "no-answer") == 204
    assert service.wait_for(unanswered, "failed")["status"] == "failed"
    [event] = _wait_events(service, unanswered, "handover_failed")
    assert event["reasons"] == ["call no-answer"]

    cut = _send(
        twilio, dict(request_body, recipient=dict(request_body["recipient"])), "+5511987650006"
    )
    call = Call(twilio, "+5511987650006")
    call.answer()
    call.confirm_identity()
    recording = call.recording_url()
    assert twilio.peer.call_status(call.call, "completed") == 204  # hung up during the notice
    call.record(recording, b"RIFF-interrompida")
    assert service.wait_for(cut, "failed")["status"] == "failed"
    [event] = _wait_events(service, cut, "handover_failed")
    assert event["reasons"] == ["the call ended before the notice was played to its end"]


def test_a_confirmed_call_without_its_recording_says_why_it_proves_nothing(
    twilio: Twilio, request_body: dict[str, Any]
) -> None:
    service = twilio.service
    communication_id = _send(twilio, request_body, "+5511987650007")
    call = Call(twilio, "+5511987650007")
    call.answer()
    call.confirm_identity()
    recording = call.recording_url()
    call.press("")
    assert twilio.peer.call_status(call.call, "completed") == 204
    code, _ = twilio.peer.call_request(
        call.call, recording, RecordingSid="", RecordingStatus="absent"
    )
    assert code == 204
    [accepted] = _wait_events(service, communication_id, "recipient_accepted")
    assert accepted["reasons"] == ["recording absent"]
    assert "recording" not in {a["role"] for a in accepted["artifacts"]}
    body = service.wait_for(communication_id, "delivered")
    assert body["status"] == "delivered" and not body.get("proof")


def test_voice_webhooks_refuse_forged_requests_and_unknown_calls(twilio: Twilio) -> None:
    client = twilio.service.client
    form = {"CallSid": "CAx", "CallStatus": "in-progress"}
    assert client.post("/v1/webhooks/twilio/voice/abc", data=form).status_code == 403
    signed = twilio.peer.signed(f"{PUBLIC}/v1/webhooks/twilio/voice/abc", form)
    assert signed == 404


def test_an_invalid_number_fails_the_call_for_good(
    twilio: Twilio, request_body: dict[str, Any]
) -> None:
    service = twilio.service
    communication_id = _send(twilio, request_body, "+5511987650000")
    assert service.wait_for(communication_id, "failed")["status"] == "failed"
    [event] = _wait_events(service, communication_id, "relay_failed")
    assert "21217" in event["reasons"][0]
