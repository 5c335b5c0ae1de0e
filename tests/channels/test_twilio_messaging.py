"""SMS and WhatsApp through the real ``twilio`` client against a Twilio-compatible peer:
signed status callbacks and replies, forged ones refused, the reply as the legal proof."""

import io
import json
import time
import urllib.parse
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ccm.evidence.verify import verify_pack
from ccm.service.cases import get_case
from ccm.service.communications import get_communication
from signing import DevelopmentPki
from signing.verification import OfflineVerifier
from tests.api.case_files import case_file, ladder_profile
from tests.api.conftest import Service, request_body, running_service
from tests.channels.twilio_peer import TwilioPeer

pytestmark = pytest.mark.xdist_group("twilio")
__all__ = ["request_body"]  # the fixture, shared with the API tests

SID, TOKEN = "AC" + "1" * 32, "token-de-teste"
PUBLIC = "https://ccm.example.com"
SMS_FROM, WHATSAPP_FROM = "+5511400000001", "+5511400000002"
PHONE = "+5511987654321"
CONTENT_SID = "HX" + "a" * 32


class Twilio:
    peer: TwilioPeer
    service: Service


@pytest.fixture(scope="module")
def twilio(tmp_path_factory: pytest.TempPathFactory, pki: Any, home: Path) -> Iterator[Twilio]:
    box = Twilio()

    def deliver(url: str, form: dict[str, str], headers: dict[str, str]) -> int:
        path = urllib.parse.urlsplit(url).path  # Twilio calls the public URL; we are it
        return int(box.service.client.post(path, data=form, headers=headers).status_code)

    box.peer = TwilioPeer(SID, TOKEN, deliver)
    folder = tmp_path_factory.mktemp("twilio")
    with running_service(
        folder,
        home,
        rn593_profile=ladder_profile(folder),
        rn593_interval_seconds=3600,  # the case test advances its case itself
        public_base_url=PUBLIC,
        twilio_account_sid=SID,
        twilio_auth_token=TOKEN,
        twilio_sms_from=SMS_FROM,
        twilio_whatsapp_from=WHATSAPP_FROM,
        twilio_api_base_url=box.peer.base_url,
        twilio_whatsapp_content_sids={"delinquency_notice": CONTENT_SID},
    ) as service:
        box.service = service
        yield box
    box.peer.close()


def _send(twilio: Twilio, body: dict[str, Any], channel: str, phone: str = PHONE) -> str:
    body["recipient"]["phone"] = phone
    body["channels"] = [channel]
    response = twilio.service.client.post(
        "/v1/communications", json=body, headers=twilio.service.auth("submitter")
    )
    assert response.status_code == 202, response.text
    return str(response.json()["id"])


def _sent_to(twilio: Twilio, to: str, seconds: float = 30) -> dict[str, str]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for message in reversed(twilio.peer.messages):
            if message["To"] == to:
                return message
        time.sleep(0.05)
    raise AssertionError(f"nothing reached the Twilio peer for {to}")


def _document_id(twilio: Twilio, communication_id: str) -> str:
    record = get_communication(twilio.service.engine, communication_id)
    assert record is not None
    return str(record.document_id)


def _events(service: Service, communication_id: str, kind: str) -> list[dict[str, Any]]:
    events = service.client.get(
        f"/v1/communications/{communication_id}/events", headers=service.auth("legal")
    ).json()
    return [e for e in events if e["type"] == kind]


def test_an_sms_is_proven_by_a_reply_from_the_registered_number(
    twilio: Twilio, request_body: dict[str, Any], pki: DevelopmentPki
) -> None:
    service, peer = twilio.service, twilio.peer
    communication_id = _send(twilio, request_body, "sms")
    message = _sent_to(twilio, PHONE)
    assert message["From"] == SMS_FROM and "Responda CIENTE" in message["Body"]
    assert message["StatusCallback"] == f"{PUBLIC}/v1/webhooks/twilio/status"
    assert service.wait_for(communication_id, "sent", seconds=10)["status"] == "sent"

    assert peer.status(message, "sent") == 204  # nothing beyond the relay receipt
    assert peer.status(message, "delivered") == 204
    assert peer.status(message, "delivered") == 204  # the same callback again
    assert service.wait_for(communication_id, "delivered")["status"] == "delivered"

    inbound = f"{PUBLIC}/v1/webhooks/twilio/inbound"
    assert peer.incoming(inbound, "+5511911112222", SMS_FROM, "CIENTE") == 200  # not the number
    assert peer.incoming(inbound, PHONE, SMS_FROM, "Ciente! Obrigada") == 200
    proven = service.wait_for(communication_id, "proven")
    assert proven["status"] == "proven" and proven["proof"]["rule"] == "R15"
    [reply] = _events(service, communication_id, "recipient_accepted")
    assert reply["details"]["keyword"] == "CIENTE"
    assert len(_events(service, communication_id, "content_handed_over")) == 1

    pack = service.client.get(
        f"/v1/communications/{communication_id}/evidence-pack", headers=service.auth("legal")
    )
    assert verify_pack(pack.content, verifier=OfflineVerifier([pki.ca()])).ok
    sha256 = reply["artifacts"][0]["sha256"]
    with zipfile.ZipFile(io.BytesIO(pack.content)) as archive:
        [name] = [n for n in archive.namelist() if n.startswith(f"artifacts/{sha256}")]
        kept = json.loads(archive.read(name))
    assert kept["Body"] == "Ciente! Obrigada" and kept["From"] == PHONE  # verbatim


def test_forged_or_unsigned_callbacks_are_refused(twilio: Twilio) -> None:
    client = twilio.service.client
    form = {"MessageSid": "SMx", "MessageStatus": "delivered"}
    assert client.post("/v1/webhooks/twilio/status", data=form).status_code == 403
    bogus = {"X-Twilio-Signature": "bm9wZQ=="}
    assert client.post("/v1/webhooks/twilio/status", data=form, headers=bogus).status_code == 403
    # signed correctly, but for another URL than the one Twilio was given
    other = TwilioPeer(SID, TOKEN, twilio.peer.deliver)
    try:
        assert other.signed("https://elsewhere.example/v1/webhooks/twilio/status", form) == 403
        assert (
            TwilioPeer(SID, "other-token", twilio.peer.deliver).signed(
                f"{PUBLIC}/v1/webhooks/twilio/status", form
            )
            == 403
        )
    finally:
        other.close()


def test_whatsapp_dispute_then_confirmation(twilio: Twilio, request_body: dict[str, Any]) -> None:
    service, peer = twilio.service, twilio.peer
    phone = "+5521987650001"
    communication_id = _send(twilio, request_body, "whatsapp", phone)
    message = _sent_to(twilio, f"whatsapp:{phone}")
    assert message["From"] == f"whatsapp:{WHATSAPP_FROM}"
    # business-initiated: Meta's approved template and its values, not free text
    assert message["ContentSid"] == CONTENT_SID and "Body" not in message
    variables = json.loads(message["ContentVariables"])
    assert variables["1"] == "Vida Plena Saúde S.A." and variables["3"].startswith("R$")
    assert variables["5"].endswith(f"/d/{_document_id(twilio, communication_id)}")
    assert peer.status(message, "read") == 204  # WhatsApp's blue ticks: weak, not proof
    assert service.wait_for(communication_id, "delivered")["status"] == "delivered"

    inbound = f"{PUBLIC}/v1/webhooks/twilio/inbound"
    assert peer.incoming(inbound, f"whatsapp:{phone}", WHATSAPP_FROM, "QUESTIONAR") == 200
    deadline = time.monotonic() + 20
    while not _events(service, communication_id, "recipient_rejected"):
        assert time.monotonic() < deadline, "the dispute was not recorded"
        time.sleep(0.1)
    [dispute] = _events(service, communication_id, "recipient_rejected")
    assert "QUESTIONAR" in dispute["reasons"][0]
    assert service.wait_for(communication_id, "delivered")["status"] == "delivered"
    assert peer.incoming(inbound, f"whatsapp:{phone}", WHATSAPP_FROM, "sim") == 200
    assert service.wait_for(communication_id, "proven")["status"] == "proven"


def test_a_questionar_reply_to_a_case_notice_opens_a_dispute_on_the_case(twilio: Twilio) -> None:
    service, peer = twilio.service, twilio.peer
    phone = "+5521987650002"
    imported = service.client.post(
        "/v1/cases/import",
        content=json.dumps([case_file("TWL-1", email=None, phone=phone)]).encode(),
        headers={**service.auth("submitter"), "Content-Type": "application/json"},
    )
    assert imported.status_code == 201, imported.text
    [case_id] = imported.json()["created"]
    service.client.app.state.services.ladder.advance(case_id)  # type: ignore[attr-defined]
    stored = get_case(service.engine, case_id)
    assert stored is not None
    [attempt] = [a for a in stored.attempts if a.state == "launched"]  # no e-mail on file
    assert attempt.channel == "whatsapp"
    message = _sent_to(twilio, f"whatsapp:{phone}")
    assert service.wait_for(str(attempt.communication_id), "sent")["status"] == "sent"
    inbound = f"{PUBLIC}/v1/webhooks/twilio/inbound"
    assert peer.incoming(inbound, message["To"], WHATSAPP_FROM, "QUESTIONAR") == 200
    deadline = time.monotonic() + 20
    while not (case := _case(service, case_id))["disputes"]:
        assert time.monotonic() < deadline, "no dispute on the case"
        time.sleep(0.1)
    [dispute] = case["disputes"]
    assert dispute["method"] == "reply" and "dispute_open" in case["clock"]["blocks"]
    events = _events(service, str(attempt.communication_id), "recipient_rejected")
    assert [e["id"] for e in events] == [dispute["evidence_id"]]


def _case(service: Service, case_id: str) -> dict[str, Any]:
    response = service.client.get(f"/v1/cases/{case_id}", headers=service.auth("legal"))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_twilio_refusals_and_failures(twilio: Twilio, request_body: dict[str, Any]) -> None:
    service, peer = twilio.service, twilio.peer
    invalid = _send(twilio, request_body, "sms", "+5511900000000")
    assert service.wait_for(invalid, "failed")["status"] == "failed"
    [refused] = _events(service, invalid, "relay_failed")
    assert "21211" in refused["reasons"][0]

    undelivered = _send(twilio, request_body, "sms", "+5511912345678")
    message = _sent_to(twilio, "+5511912345678")
    assert peer.status(message, "undelivered", ErrorCode="30003") == 204
    assert service.wait_for(undelivered, "failed")["status"] == "failed"
    [failure] = _events(service, undelivered, "handover_failed")
    assert "30003" in failure["reasons"][0]
