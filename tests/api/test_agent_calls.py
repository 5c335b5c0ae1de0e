"""Agent calls: protocol first, the script page, each attempt reported; the notice given
only to the payer after three identity items (CPF among them), proven with a recording."""

import base64
import time
from typing import Any

from ccm.evidence.verify import verify_pack
from signing import DevelopmentPki
from signing.verification import OfflineVerifier
from tests.api.conftest import Service

PHONE = "+5511976543210"


def _call(service: Service, body: dict[str, Any], contract: str) -> tuple[str, str]:
    body["data"]["plan"]["contract_number"] = contract
    body["recipient"]["phone"] = PHONE
    body["channels"] = ["agent_call"]
    response = service.client.post(
        "/v1/communications", json=body, headers=service.auth("submitter")
    )
    assert response.status_code == 202, response.text
    communication_id = str(response.json()["id"])
    view = service.wait_for(communication_id, "sent", seconds=30)
    assert view["status"] == "sent", view
    return communication_id, str(view["attempts"][0]["provider_message_id"])


def _report(service: Service, communication_id: str, who: str = "agent", **fields: Any) -> Any:
    return service.client.post(
        f"/v1/communications/{communication_id}/agent-outcome",
        json={"agent_id": "AT-0042", **fields},
        headers=service.auth(who),
    )


def _events(service: Service, communication_id: str, kind: str, at_least: int = 1) -> list[Any]:
    deadline = time.monotonic() + 20
    while True:
        events = service.client.get(
            f"/v1/communications/{communication_id}/events", headers=service.auth("legal")
        ).json()
        found = [e for e in events if e["type"] == kind]
        if len(found) >= at_least or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def test_a_recorded_call_with_identity_confirmed_proves_the_notice(
    service: Service, request_body: dict[str, Any], pki: DevelopmentPki
) -> None:
    communication_id, protocol = _call(service, request_body, "VP-CALL-1")
    page = service.client.get(
        f"/v1/communications/{communication_id}/agent-script", headers=service.auth("agent")
    )
    assert page.status_code == 200 and protocol in page.text
    assert "PREVIA" not in page.text

    given = {"protocol": protocol, "attempt": 2, "outcome": "notified"}
    three = ["cpf", "birth_date", "mother_name"]
    dependent = _report(
        service, communication_id, interlocutor_role="dependent", identity_confirmed=three, **given
    )
    assert dependent.status_code == 422
    assert dependent.json()["errors"][0]["path"] == "interlocutor_role"
    no_cpf = _report(
        service,
        communication_id,
        interlocutor_role="payer",
        identity_confirmed=["birth_date", "mother_name", "address"],
        **given,
    )
    assert no_cpf.status_code == 422 and no_cpf.json()["errors"][0]["path"] == "identity_confirmed"
    wrong = _report(service, communication_id, interlocutor_role="payer", attempt=2,
                    outcome="notified", protocol="000000", identity_confirmed=["cpf"])  # fmt: skip
    assert {e["path"] for e in wrong.json()["errors"]} == {"protocol", "identity_confirmed"}
    assert _report(service, communication_id, who="submitter", **given).status_code == 403

    missed = _report(service, communication_id, protocol=protocol, attempt=1,
                     outcome="not_reached", interlocutor_role="payer")  # fmt: skip
    assert missed.status_code == 202 and missed.json()["kind"] == "attempt_failed"
    [failed_attempt] = _events(service, communication_id, "handover_failed")
    assert failed_attempt["details"]["attempt"] == "1"
    assert service.wait_for(communication_id, "sent", seconds=2)["status"] == "sent"

    audio = b"ID3 fake mp3 bytes of the recorded call"
    notified = _report(
        service, communication_id, interlocutor_role="payer",
        identity_confirmed=["cpf", "birth_date", "mother_name"],
        recording={"reference": "PABX-20261121-0042", "media_type": "audio/mpeg",
                   "content_base64": base64.b64encode(audio).decode()},
        notes="Pagadora informada do débito e do prazo.", **given,
    )  # fmt: skip
    assert notified.status_code == 202, notified.text
    assert notified.json() == {"communication_id": communication_id, "kind": "call_confirmed",
                               "proof_expected": True}  # fmt: skip
    proven = service.wait_for(communication_id, "proven")
    assert proven["proof"]["rule"] == "R16"
    [accepted] = _events(service, communication_id, "recipient_accepted")
    assert accepted["details"]["protocol"] == protocol
    assert accepted["details"]["identity_items"] == "birth_date,cpf,mother_name"
    assert "recording" in {a["role"] for a in accepted["artifacts"]}
    pack = service.client.get(
        f"/v1/communications/{communication_id}/evidence-pack", headers=service.auth("legal")
    )
    assert verify_pack(pack.content, verifier=OfflineVerifier([pki.ca()])).ok


def test_without_a_recording_the_call_is_no_proof_and_five_misses_end_it(
    service: Service, request_body: dict[str, Any]
) -> None:
    unrecorded, protocol = _call(service, request_body, "VP-CALL-2")
    reported = _report(service, unrecorded, protocol=protocol, attempt=1, outcome="notified",
                       interlocutor_role="payer",
                       identity_confirmed=["cpf", "birth_date", "phone"])  # fmt: skip
    assert reported.status_code == 202 and reported.json()["proof_expected"] is False
    [accepted] = _events(service, unrecorded, "recipient_accepted")
    assert not accepted["legal_proof"]["proof"]
    assert "recording" in accepted["legal_proof"]["why"]
    assert service.wait_for(unrecorded, "delivered")["status"] == "delivered"

    missed, protocol = _call(service, request_body, "VP-CALL-3")
    for attempt in range(1, 6):
        response = _report(service, missed, protocol=protocol, attempt=attempt,
                           outcome="not_reached", interlocutor_role="payer")  # fmt: skip
        assert response.status_code == 202
    assert response.json()["kind"] == "attempts_exhausted"
    assert service.wait_for(missed, "failed")["status"] == "failed"
    assert len(_events(service, missed, "handover_failed", at_least=4)) == 4
    [exhausted] = _events(service, missed, "attempts_exhausted")
    assert exhausted["details"]["attempt"] == "5"


def test_a_receipt_signed_in_person_proves_the_notice(
    service: Service, request_body: dict[str, Any]
) -> None:
    request_body["data"]["plan"]["contract_number"] = "VP-HAND-1"
    request_body["recipient"]["email"] = "rejeitar@example.com"  # the e-mail will fail
    created = service.client.post(
        "/v1/communications", json=request_body, headers=service.auth("submitter")
    ).json()
    communication_id = created["id"]
    receipt = {"received_by_role": "payer", "signed_on": "2026-11-20", "agent_id": "AT-7",
               "receipt_base64": base64.b64encode(b"%PDF-1.7 signed receipt").decode()}  # fmt: skip
    path = f"/v1/communications/{communication_id}/in-person-receipt"
    refused = service.client.post(
        path, json={**receipt, "received_by_role": "dependent", "signed_on": "2999-01-01"},
        headers=service.auth("agent"),
    )  # fmt: skip
    assert refused.status_code == 422
    assert {e["path"] for e in refused.json()["errors"]} == {"received_by_role", "signed_on"}
    accepted = service.client.post(path, json=receipt, headers=service.auth("agent"))
    assert accepted.status_code == 202, accepted.text
    proven = service.wait_for(communication_id, "proven")
    assert proven["proof"]["rule"] == "R18" and proven["proof"]["channel"] == "in_person"
    assert proven["proof"]["date"].startswith("2026-11-20")
