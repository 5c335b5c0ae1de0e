"""POST a notice, follow it to `proven`, fetch its document, events and evidence pack."""

import io
import json
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from ccm.evidence.verify import verify_pack
from ccm.persistence.tables import communications
from signing.verification import OfflineVerifier
from tests.api.conftest import Service
from tests.signing.helpers import pyhanko_status


def test_a_notice_reaches_proven_with_its_evidence(
    service: Service, submit: Callable[..., Any], request_body: dict[str, Any], pki: Any
) -> None:
    response = submit(request_body)
    assert response.status_code == 202, response.text
    created = response.json()
    assert created["status"] == "accepted"
    assert response.headers["Location"] == f"/v1/communications/{created['id']}"
    done = service.wait_for(created["id"], "proven", who="submitter")
    assert done["status"] == "proven", done
    assert done["proof"]["channel"] == "email" and done["proof"]["rule"] == "R14"
    [attempt] = done["attempts"]
    assert (attempt["channel"], attempt["state"], attempt["provider"]) == (
        "email",
        "proven",
        "sandbox",
    )

    events = service.client.get(created["links"]["events"], headers=service.auth("submitter"))
    types = [e["type"] for e in events.json()]
    assert types[:6] == [
        "submission_accepted", "content_composed", "document_signed",
        "relay_accepted", "content_handed_over", "content_accessed",
    ]  # fmt: skip

    pdf = service.client.get(created["links"]["document"], headers=service.auth("legal"))
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    status = pyhanko_status(pdf.content, pki.ca())
    assert status.intact and status.valid and status.trusted

    pack = service.client.get(created["links"]["evidence_pack"], headers=service.auth("legal"))
    assert pack.status_code == 200
    report = verify_pack(pack.content, verifier=OfflineVerifier([pki.ca()]))
    assert report.ok, [(c.subject, c.detail) for c in report.failures]
    with zipfile.ZipFile(io.BytesIO(pack.content)) as archive:
        lines = archive.read("events.jsonl").decode().splitlines()
    retrievals = [line for line in lines if '"type":"evidence_retrieved"' in line]
    assert len(retrievals) == 2  # the events and the document, before the pack was built
    after = service.client.get(created["links"]["events"], headers=service.auth("legal")).json()
    methods = [e["details"]["method"] for e in after if e["type"] == "evidence_retrieved"]
    assert methods == ["events", "document", "evidence_pack", "events"]


def test_the_email_asks_for_a_read_receipt_and_goes_to_the_recipient(
    service: Service, submit: Callable[..., Any], request_body: dict[str, Any]
) -> None:
    request_body["recipient"]["email"] = "outra.pessoa@example.com"
    created = submit(request_body).json()
    service.wait_for(created["id"], "sent")
    [eml] = (service.settings.outbox_dir / created["id"]).glob("*.eml")
    raw = eml.read_bytes()
    assert raw.startswith(b"X-CCM-Sandbox: true")
    assert b"To: outra.pessoa@example.com" in raw
    assert b"Disposition-Notification-To:" in raw


@pytest.mark.parametrize(
    ("channel", "rule"), [("sms", "R15"), ("whatsapp", "R15"), ("registered_mail", "R17")]
)
def test_other_channels_reach_their_own_proof(
    service: Service,
    submit: Callable[..., Any],
    request_body: dict[str, Any],
    channel: str,
    rule: str,
) -> None:
    request_body["channels"] = [channel]
    request_body["recipient"]["phone"] = "+5511987654321"
    response = submit(request_body)
    assert response.status_code == 202, response.text
    done = service.wait_for(response.json()["id"], "proven")
    assert done["proof"]["rule"] == rule and done["proof"]["channel"] == channel


def test_idempotency_key_returns_the_same_communication_or_409(
    service: Service, submit: Callable[..., Any], request_body: dict[str, Any]
) -> None:
    first = submit(request_body, **{"Idempotency-Key": "batch-7-row-1"})
    again = submit(request_body, **{"Idempotency-Key": "batch-7-row-1"})
    assert first.status_code == 202 and again.status_code == 200
    assert first.json()["id"] == again.json()["id"]
    request_body["case_id"] = "CASE-OTHER"
    conflict = submit(request_body, **{"Idempotency-Key": "batch-7-row-1"})
    assert conflict.status_code == 409
    assert first.json()["id"] in conflict.json()["detail"]
    # The key belongs to the caller: another system may use the same string.
    theirs = submit(request_body, who="other", **{"Idempotency-Key": "batch-7-row-1"})
    assert theirs.status_code == 202 and theirs.json()["id"] != first.json()["id"]


def _count(service: Service) -> int:
    with service.engine.connect() as connection:
        return int(
            connection.execute(select(func.count()).select_from(communications)).scalar_one()
        )


@pytest.mark.parametrize(
    ("change", "path", "rule"),
    [
        (lambda b: b["recipient"].update(cpf="284.197.365-47"), "recipient.cpf", "check digits"),
        (lambda b: b["data"]["payer"].update(cpf="111.111.111-11"), "data.payer.cpf", "CPF"),
        (lambda b: b["data"].pop("installments"), "data.installments", "required"),
        (lambda b: b.update(template="no_such_template"), "template", "no_such_template"),
        (lambda b: b.update(channels=["fax"]), "channels[0]", "not sent by this service"),
        (lambda b: b["recipient"].pop("email"), "recipient.email", "required to send by email"),
        (lambda b: b["recipient"].update(role="dependent"), "recipient.role", "R12"),
        (lambda b: b["recipient"].update(cpf="517.309.246-70"), "recipient.cpf", "R12"),
        (lambda b: b.update(case_id="a\x00b"), "", "NUL"),
        (
            lambda b: b["recipient"].update(address={"line1": "x"}),
            "recipient.address.line1",
            "at least 3",
        ),
        (lambda b: b.update(unexpected=1), "unexpected", "Extra inputs"),
    ],
)
def test_bad_requests_name_the_field_and_rule_and_write_nothing(
    service: Service,
    submit: Callable[..., Any],
    request_body: dict[str, Any],
    change: Callable[[dict[str, Any]], None],
    path: str,
    rule: str,
) -> None:
    before = _count(service)
    change(request_body)
    response = submit(request_body)
    assert response.status_code == 422, response.text
    errors = response.json()["errors"]
    assert any(e["path"] == path and rule in e["rule"] for e in errors), errors
    assert _count(service) == before


def test_keys_and_roles(
    service: Service, submit: Callable[..., Any], request_body: dict[str, Any]
) -> None:
    client = service.client
    assert client.post("/v1/communications", json=request_body).status_code == 401
    bad = {"Authorization": "Bearer ccm_0000_nope"}
    assert client.post("/v1/communications", json=request_body, headers=bad).status_code == 401
    assert submit(request_body, who="editor").status_code == 403
    created = submit(request_body).json()
    path = f"/v1/communications/{created['id']}"
    assert client.get(path, headers=service.auth("other")).status_code == 403
    assert client.get(f"{path}/events", headers=service.auth("other")).status_code == 403
    assert client.get(f"{path}/evidence-pack", headers=service.auth("editor")).status_code == 403
    assert client.get(f"{path}/events", headers=service.auth("legal")).status_code == 200
    assert client.get(path, headers=service.auth("submitter")).status_code == 200
    assert (
        client.get("/v1/communications/com_nope", headers=service.auth("admin")).status_code == 404
    )


def test_operations_endpoints(service: Service) -> None:
    assert service.client.get("/healthz").json() == {"status": "ok"}
    assert service.client.get("/readyz").json() == {"status": "ready"}
    metrics = service.client.get("/metrics").text
    assert "ccm_communications" in metrics and "ccm_jobs" in metrics
    schema = service.client.get("/openapi.json").json()
    assert "/v1/communications" in schema["paths"]


def test_metrics_forget_states_that_emptied(service: Service) -> None:
    from ccm.persistence.tables import jobs

    with service.engine.begin() as connection:
        connection.execute(
            jobs.insert().values(
                communication_id="com_metrics",
                kind="compose",
                payload="{}",
                state="parked",
                run_after=datetime.now(UTC),
                attempts=0,
                created_at=datetime.now(UTC),
            )  # fmt: skip
        )
    assert 'ccm_jobs{state="parked"} 1.0' in service.client.get("/metrics").text
    with service.engine.begin() as connection:
        connection.execute(jobs.delete().where(jobs.c.communication_id == "com_metrics"))
    assert 'state="parked"' not in service.client.get("/metrics").text


def test_oversized_bodies_and_nul_paths_are_refused(service: Service) -> None:
    huge = service.client.post(
        "/v1/communications",
        content=b"{" + b" " * (3 * 1024 * 1024) + b"}",
        headers={**service.auth("submitter"), "Content-Type": "application/json"},
    )
    assert huge.status_code == 413
    nul = service.client.get("/v1/communications/x%00y", headers=service.auth("admin"))
    assert nul.status_code == 400


def test_the_api_docs_need_no_internet(service: Service) -> None:
    page = service.client.get("/docs").text
    assert "cdn" not in page
    [script] = [part.split('"')[0] for part in page.split('src="')[1:] if "swagger-ui" in part]
    assert service.client.get(script).status_code == 200


def test_one_refused_channel_does_not_fail_a_communication_another_channel_proves(
    service: Service, submit: Callable[..., Any], request_body: dict[str, Any]
) -> None:
    request_body["recipient"].update(email="rejeitar@example.com", phone="+5511987654321")
    request_body["channels"] = ["email", "sms"]
    created = submit(request_body).json()
    done = service.wait_for(created["id"], "proven")
    assert done["status"] == "proven" and done["proof"]["channel"] == "sms"
    states = {a["channel"]: a["state"] for a in done["attempts"]}
    assert states == {"email": "failed", "sms": "proven"}
    events = service.client.get(created["links"]["events"], headers=service.auth("legal")).json()
    [refusal] = [e for e in events if e["type"] == "relay_failed"]
    assert "refused" in refusal["reasons"][0]


def test_the_sandbox_ivr_call_is_proven_by_its_labelled_recording(
    service: Service, submit: Callable[..., Any], request_body: dict[str, Any]
) -> None:
    request_body["recipient"]["phone"] = "+5511987654321"
    request_body["channels"] = ["ivr"]
    created = submit(request_body).json()
    done = service.wait_for(created["id"], "proven")
    assert done["status"] == "proven" and done["proof"]["rule"] == "R16"
    events = service.client.get(created["links"]["events"], headers=service.auth("legal")).json()
    [accepted] = [e for e in events if e["type"] == "recipient_accepted"]
    assert accepted["details"]["sandbox"] == "true" and accepted["channel"] == "ivr"
    roles = {a["role"]: a for a in accepted["artifacts"]}
    assert roles["recording"]["media_type"] == "audio/wav" and "ivr_record" in roles
    # The script went to the outbox: the steps, never the digits the person must type.
    [script] = (service.settings.outbox_dir / created["id"]).glob("*.ivr.json")
    steps = json.loads(script.read_text())["steps"]
    assert "R$" in steps["notice"] and "1979" not in script.read_text()


def test_an_ivr_call_needs_a_phone_and_the_data_its_identity_check_compares(
    service: Service, submit: Callable[..., Any], request_body: dict[str, Any]
) -> None:
    request_body["channels"] = ["ivr"]
    refused = submit(request_body)
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["path"] == "recipient.phone"
    request_body["recipient"]["phone"] = "+5511987654321"
    del request_body["data"]["payer"]["birth_date"]
    created = submit(request_body).json()
    assert service.wait_for(created["id"], "failed")["status"] == "failed"
    events = service.client.get(created["links"]["events"], headers=service.auth("legal")).json()
    [refusal] = [e for e in events if e["type"] == "relay_failed"]
    assert refusal["reasons"] == ["ivr: identity item birth_year needs data.payer.birth_date"]
