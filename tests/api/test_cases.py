"""RN 593 cases end to end: import, the escalation ladder on the sandbox channels (days
passed with the ladder's own clock), disputes from the page, payment, caps, provenance,
the termination decision (R24), the case pack verified offline, the follow-up sheet."""

import io
import json
import subprocess
import time
import zipfile
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import select, update

from ccm.evidence.ledger import Ledger
from ccm.persistence.tables import case_attempts, cases, deliveries, jobs
from ccm.rn593.ladder import FrequencyCaps, LadderStep, QuietHours
from ccm.service.case_decisions import decide
from ccm.service.cases import BRASILIA, CaseState, StoredCase, get_case, local_date
from ccm.service.communications import get_communication
from tests.api.case_files import SAMPLES, case_file, ladder_profile
from tests.api.conftest import REQUEST, Service, running_service

pytestmark = pytest.mark.xdist_group("cases")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory, pki: Any, home: Path) -> Iterator[Service]:
    folder = tmp_path_factory.mktemp("cases")
    with running_service(
        folder, home, rn593_profile=ladder_profile(folder), rn593_interval_seconds=3600
    ) as running:
        yield running


def quiet_now() -> QuietHours:
    """Quiet hours from an hour ago to three hours from now (Brasília): sends are held."""
    local = datetime.now(BRASILIA)
    return QuietHours(
        start=(local - timedelta(hours=1)).time().replace(second=0, microsecond=0),
        end=(local + timedelta(hours=3)).time().replace(second=0, microsecond=0),
    )


def imported(service: Service, *cases: dict[str, Any]) -> list[str]:
    response = upload(service, json.dumps(list(cases)).encode(), "application/json")
    assert response.status_code == 201, response.text
    return list(response.json()["created"]) + list(response.json()["updated"])


def upload(service: Service, body: bytes, media_type: str, who: str = "submitter") -> Any:
    headers = {**service.auth(who), "Content-Type": media_type}
    return service.client.post("/v1/cases/import", content=body, headers=headers)


def terminate(service: Service, case_id: str, kind: str = "termination", who: str = "legal") -> Any:
    return service.client.post(
        f"/v1/cases/{case_id}/termination", json={"kind": kind}, headers=service.auth(who)
    )


def until_proved(service: Service, case_id: str) -> None:
    """Advance the case (now) until its ladder sees the legal proof."""
    deadline = time.monotonic() + 30
    while get_case(service.engine, case_id).state is not CaseState.PROVED:  # type: ignore[union-attr]
        advance(service, case_id)
        assert time.monotonic() < deadline
        time.sleep(0.2)


def cli_import(
    service: Service, path: Path, case: dict[str, Any], profile: Path | None = None
) -> Any:
    """Write ``case`` to ``path`` and import it with ``ccm cases import`` (``--profile``)."""
    path.write_text(json.dumps(case), encoding="utf-8")
    return service.cli(
        "cases", "import", str(path), *(["--profile", str(profile)] if profile else [])
    )


def advance(service: Service, case_id: str) -> StoredCase:
    """What the worker's timer does, now, for one case."""
    stored: StoredCase = service.client.app.state.services.ladder.advance(case_id)  # type: ignore[attr-defined]
    return stored


def days_pass(service: Service, case_id: str, delta: timedelta) -> None:
    """Move the ladder's start and attempts ``delta`` into the past, as if time passed
    (the pipeline and the sandbox keep running on the real clock)."""
    with service.engine.begin() as connection:
        row = connection.execute(select(cases.c.started_at).where(cases.c.id == case_id)).one()
        connection.execute(
            update(cases).where(cases.c.id == case_id).values(started_at=row.started_at - delta)
        )
        for attempt in connection.execute(
            select(case_attempts.c.id, case_attempts.c.created_at).where(
                case_attempts.c.case_id == case_id
            )
        ).all():
            connection.execute(
                update(case_attempts)
                .where(case_attempts.c.id == attempt.id)
                .values(created_at=attempt.created_at - delta)
            )


def view(service: Service, case_id: str, at: date | None = None) -> dict[str, Any]:
    query = f"?at={at.isoformat()}" if at else ""
    response = service.client.get(f"/v1/cases/{case_id}{query}", headers=service.auth("legal"))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def eventually(check: Callable[[], bool], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def settled(service: Service, case_id: str, seconds: float = 30) -> list[dict[str, Any]]:
    """The case's attempts once no communication is still being sent."""
    deadline = time.monotonic() + seconds
    while True:
        attempts = view(service, case_id)["attempts"]
        statuses = [
            get_communication(service.engine, a["communication_id"]).status  # type: ignore[union-attr]
            for a in attempts
            if a["communication_id"]
        ]
        if all(s in {"delivered", "proven", "failed", "cancelled"} for s in statuses):
            return list(attempts)
        assert time.monotonic() < deadline, statuses
        time.sleep(0.1)


def test_the_ladder_climbs_until_a_legal_proof_then_stops(service: Service) -> None:
    [case_id] = imported(service, case_file("LAD-1"))
    start = datetime.now(UTC)
    first = settled(service, case_id)
    assert [(a["step"], a["channel"], a["outcome"]) for a in first] == [
        (1, "email", "open"),  # delivered, never read: no proof (R14)
        (1, "whatsapp", "open"),  # delivered, never answered: no proof (R15)
    ]
    stored = get_case(service.engine, case_id)
    assert stored is not None and stored.state is CaseState.NOTIFYING

    days_pass(service, case_id, timedelta(days=1, hours=23))
    advance(service, case_id)
    assert len(view(service, case_id)["attempts"]) == 2  # the IVR waits two days

    days_pass(service, case_id, timedelta(hours=1, seconds=1))
    advance(service, case_id)
    eventually(lambda: view(service, case_id)["attempts"][-1]["outcome"] == "proved")
    attempts = view(service, case_id)["attempts"]
    assert [(a["channel"], a["outcome"]) for a in attempts][-1] == ("ivr", "proved")

    days_pass(service, case_id, timedelta(days=4))
    assert advance(service, case_id).state is CaseState.PROVED
    body = view(service, case_id)
    assert len(body["attempts"]) == 3  # no agent call, no letter: the ladder stopped
    proof = body["clock"]["proof"]
    assert proof["proven"] and proof["channel"] == "ivr"
    assert proof["date"] == local_date(start).isoformat()
    events = service.client.get(
        f"/v1/communications/{attempts[-1]['communication_id']}/events",
        headers=service.auth("legal"),
    ).json()
    proving = [e for e in events if e["legal_proof"]["proof"]]
    assert [e["id"] for e in proving] == proof["evidence_ids"]
    assert proving[0]["legal_proof"]["rule"] == "R16"
    deadline = date.fromisoformat(proof["date"]) + timedelta(days=10)
    assert body["clock"]["payment_deadline"] == deadline.isoformat()
    # Familiar contract: more than 60 days overdue too, which comes after the deadline here.
    oldest = date.fromisoformat(body["clock"]["oldest_unpaid_due_date"])
    assert (
        body["eligible_from"]
        == max(deadline + timedelta(days=1), oldest + timedelta(days=61)).isoformat()
    )


def test_a_payment_cancels_what_was_not_sent_and_records_it(
    service: Service, tmp_path: Path
) -> None:
    held = ladder_profile(tmp_path, quiet_hours=quiet_now())
    path = tmp_path / "case.json"
    result = cli_import(service, path, case_file("PAY-1"), held)
    assert result.exit_code == 0, result.output
    case_id = result.output.split()[1]
    attempts = view(service, case_id)["attempts"]
    assert [a["channel"] for a in attempts] == ["email", "whatsapp"]
    time.sleep(1)  # the worker composes; quiet hours hold the sends (R22)
    for attempt in attempts:
        record = get_communication(service.engine, attempt["communication_id"])
        assert record is not None and record.deliveries == ()

    result = cli_import(service, path, case_file("PAY-1", paid=True))
    assert result.exit_code == 0 and f"updated {case_id} (paid)" in result.output
    for attempt in attempts:
        record = get_communication(service.engine, attempt["communication_id"])
        assert record is not None and record.status == "cancelled" and record.deliveries == ()
        with service.engine.connect() as connection:
            states = {r.state for r in connection.execute(select(jobs.c.state).where(
                jobs.c.communication_id == record.id, jobs.c.kind == "send"))}  # fmt: skip
        assert states <= {"cancelled"}  # never sent (a compose under way creates none)
        assert not (service.settings.outbox_dir / record.id).exists()
    events = service.client.get(
        f"/v1/communications/{attempts[0]['communication_id']}/events",
        headers=service.auth("legal"),
    ).json()
    [cancelled] = [e for e in events if e["type"] == "cancelled"]
    assert "debt was paid" in cancelled["reasons"][0]
    stored = get_case(service.engine, case_id)
    assert stored is not None and stored.state is CaseState.PAID and stored.closed_at
    assert view(service, case_id)["clock"]["blocks"] == ["paid"]


def test_frequency_caps_hold_a_step_until_the_next_day(service: Service, tmp_path: Path) -> None:
    capped = ladder_profile(tmp_path, caps=FrequencyCaps(per_day=1, per_week=8))
    path = tmp_path / "capped.json"
    result = cli_import(service, path, case_file("CAP-1"), capped)
    case_id = result.output.split()[1]
    assert [a["channel"] for a in view(service, case_id)["attempts"]] == ["email"]
    days_pass(service, case_id, timedelta(hours=23))
    advance(service, case_id)
    assert [a["channel"] for a in view(service, case_id)["attempts"]] == ["email"]
    days_pass(service, case_id, timedelta(hours=1, minutes=1))
    advance(service, case_id)
    assert [a["channel"] for a in view(service, case_id)["attempts"]] == ["email", "whatsapp"]


def test_only_contacts_with_provenance_are_used_and_the_ladder_ends_exhausted(
    service: Service,
) -> None:
    unsourced = case_file("R13-1", source=None)
    unsourced["case"]["contract"]["id"] = "R13-1"
    unsourced["contacts"]["email"]["source"] = "contractor"
    unsourced["contacts"]["email"]["updated_on"] = "2026-01-10"
    [case_id] = imported(service, unsourced)
    first = settled(service, case_id)
    assert [(a["channel"], a["outcome"]) for a in first] == [
        ("email", "open"), ("whatsapp", "skipped"), ("sms", "skipped")
    ]  # fmt: skip
    assert all("rule R13" in str(a["note"]) for a in first[1:])
    days_pass(service, case_id, timedelta(days=5, seconds=1))
    advance(service, case_id)
    attempts = view(service, case_id)["attempts"]
    assert [(a["step"], a["channel"], a["outcome"]) for a in attempts][3:] == [
        (2, "ivr", "skipped"), (3, "agent_call", "skipped"), (3, "registered_mail", "skipped"),
    ]  # fmt: skip
    sent = [a for a in attempts if a["communication_id"]]
    assert len(sent) == 1  # nothing went to an address of unknown origin
    days_pass(service, case_id, timedelta(days=4))
    advance(service, case_id)
    assert get_case(service.engine, case_id).state is CaseState.NOTIFYING  # type: ignore[union-attr]
    days_pass(service, case_id, timedelta(days=1))
    advance(service, case_id)
    assert get_case(service.engine, case_id).state is CaseState.EXHAUSTED  # type: ignore[union-attr]
    pack = _pack(service, case_id)
    events = [json.loads(line) for line in pack.read("events.jsonl").splitlines()]
    exhausted = [e for e in events if e["type"] == "attempts_exhausted"]
    assert exhausted and exhausted[0]["communication_id"] == case_id
    reasons = exhausted[0]["reasons"]
    assert "round 1 step 1 email: open (no proof within 10 days)" in reasons, reasons

    # The same file again changes nothing; a phone of known origin starts a new round on it.
    again = upload(service, json.dumps([unsourced]).encode(), "application/json")
    assert again.status_code == 201 and again.json()["restarted"] == []
    assert get_case(service.engine, case_id).state is CaseState.EXHAUSTED  # type: ignore[union-attr]
    sourced = json.loads(json.dumps(unsourced))
    sourced["contacts"]["phone"] = {"value": "+5511987654321", "source": "addressee",
                                    "updated_on": "2026-11-01"}  # fmt: skip
    restarted = upload(service, json.dumps([sourced]).encode(), "application/json")
    assert restarted.status_code == 201, restarted.text
    assert restarted.json()["restarted"] == [case_id]
    [summary] = restarted.json()["cases"]
    assert summary["state"] == "notifying" and summary["round"] == 2
    second = [a for a in view(service, case_id)["attempts"] if a["round"] == 2]
    assert [(a["step"], a["channel"], a["outcome"]) for a in second] == [
        (1, "email", "skipped"), (1, "whatsapp", "open")
    ]  # fmt: skip
    assert second[0]["note"] == "this email was already tried in an earlier round"
    until_proved(service, case_id)  # the sandbox answers the new number
    assert view(service, case_id)["clock"]["proof"]["channel"] == "whatsapp"
    events = [
        json.loads(line) for line in _pack(service, case_id).read("events.jsonl").splitlines()
    ]
    [new_round] = [e for e in events if e["details"].get("method") == "ladder_round"]
    assert new_round["reasons"] == [
        "contact data no attempt tried (phone): round 2 of the ladder uses it, and only it"
    ]


def test_a_dependent_is_never_the_payer_and_bad_files_store_nothing(service: Service) -> None:
    before = len(service.client.get("/v1/cases", headers=service.auth("legal")).json())
    dependent = json.dumps([case_file("R12-1", role="dependente")]).encode()
    response = upload(service, dependent, "application/json")
    assert response.status_code == 422
    assert "R12" in response.text and "payer" in response.text
    bad_csv = (
        (SAMPLES / "cases.csv")
        .read_text(encoding="utf-8")
        .replace(",2026-10-13,", ",13-10-2026,", 1)
    )
    response = upload(service, bad_csv.encode(), "text/csv")
    assert response.status_code == 422
    assert [e["path"] for e in response.json()["errors"]] == ["parcelas[2].due_date"]
    wrong_type = upload(service, b"x", "text/plain")
    assert wrong_type.status_code == 415
    forbidden = upload(service, b"[]", "application/json", "legal")
    assert forbidden.status_code == 403
    assert len(service.client.get("/v1/cases", headers=service.auth("legal")).json()) == before
    assert (
        service.client.get("/v1/cases/case_nope", headers=service.auth("legal")).status_code == 404
    )


def test_the_sample_spreadsheet_imports_and_a_collective_business_contract_waits(
    service: Service,
) -> None:
    response = upload(service, (SAMPLES / "cases.xlsx").read_bytes(), XLSX)
    assert response.status_code == 201, response.text
    cases = response.json()["cases"]
    assert len(cases) == 3 and all(c["protocol"] for c in cases)
    business = [c for c in cases if "not_covered" in view(service, c["id"])["clock"]["blocks"]]
    assert len(business) == 1 and business[0]["state"] == "open"
    assert view(service, business[0]["id"])["attempts"] == []  # RN 593 does not cover it


def test_a_dispute_on_the_page_opens_one_on_the_case_and_pauses_the_ladder(
    service: Service,
) -> None:
    [case_id] = imported(service, case_file("DSP-1"))
    start = datetime.now(UTC)
    email = settled(service, case_id)[0]
    record = get_communication(service.engine, email["communication_id"])
    assert record is not None and record.document_id
    answer = service.client.post(
        f"/d/{record.document_id}", data={"cpf_digits": "28419", "answer": "questionar"}
    )
    assert answer.status_code == 200
    # Read straight away, without the ladder's tick: every read and decision picks it up.
    eventually(
        lambda: any(
            e["type"] == "recipient_rejected"
            for e in service.client.get(
                f"/v1/communications/{record.id}/events", headers=service.auth("legal")
            ).json()
        )
    )
    first_read = view(service, case_id)
    assert first_read["disputes"] and "dispute_open" in first_read["clock"]["blocks"]
    refused = terminate(service, case_id)
    assert refused.status_code == 409 and "dispute_open" in refused.json()["blocks"]
    [dispute] = view(service, case_id)["disputes"]
    assert dispute["method"] == "confirmation_page" and dispute["answered_on"] is None
    days_pass(service, case_id, timedelta(days=3))
    advance(service, case_id)
    body = view(service, case_id)
    assert "dispute_open" in body["clock"]["blocks"] and len(body["attempts"]) == 2  # paused

    path = f"/v1/cases/{case_id}/disputes/{dispute['id']}/answer"
    huge = f"/v1/cases/{case_id}/disputes/99999999999999999999/answer"
    assert (
        service.client.post(
            huge, json={"answered_on": "2026-01-01"}, headers=service.auth("legal")
        ).status_code
        == 422
    )
    today = local_date(start)
    early = service.client.post(
        path,
        json={"answered_on": (today - timedelta(days=1)).isoformat()},
        headers=service.auth("legal"),
    )
    assert early.status_code == 422 and "answered_on" in early.text
    done = service.client.post(
        path, json={"answered_on": today.isoformat()}, headers=service.auth("legal")
    )
    assert done.status_code == 200
    again = service.client.post(
        path, json={"answered_on": today.isoformat()}, headers=service.auth("legal")
    )
    assert again.status_code == 409
    advance(service, case_id)
    assert [a["channel"] for a in view(service, case_id)["attempts"]][-1] == "ivr"  # resumed
    events = [
        json.loads(line) for line in _pack(service, case_id).read("events.jsonl").splitlines()
    ]
    [answered] = [e for e in events if e["type"] == "dispute_answered"]
    assert answered["details"]["answered_on"] == today.isoformat()
    assert answered["details"]["evidence_ids"] == dispute["evidence_id"]


def test_termination_is_refused_until_eligible_and_recorded_with_its_proof(
    service: Service,
) -> None:
    [case_id] = imported(service, case_file("TRM-1", email="pagadora@example.com"))
    until_proved(service, case_id)
    refused = terminate(service, case_id)
    assert refused.status_code == 409
    assert set(refused.json()["blocks"]) == {"not_over_60_days", "payment_window_open"}
    assert terminate(service, case_id, who="submitter").status_code == 403
    assert terminate(service, case_id, "expulsion").status_code == 422

    svc = service.client.app.state.services  # type: ignore[attr-defined]
    eligible_on = date.fromisoformat(view(service, case_id)["eligible_from"])
    later = datetime.combine(eligible_on, datetime.min.time(), tzinfo=UTC) + timedelta(hours=15)
    then = Ledger(service.engine, name=svc.ledger.name, clock=lambda: later)  # days passed
    decision, evaluation = decide(
        service.engine, then, svc.store, case_id, kind="termination",
        decided_by="api_key:test", now=later,
    )  # fmt: skip
    assert evaluation.eligible_for_termination
    assert decision.evidence_ids == evaluation.proof.evidence_ids and decision.evidence_ids
    stored = get_case(service.engine, case_id)
    assert stored is not None and stored.state is CaseState.TERMINATED
    pack = _pack(service, case_id)
    events = [json.loads(line) for line in pack.read("events.jsonl").splitlines()]
    [recorded] = [e for e in events if e["type"] == "decision_recorded"]
    assert recorded["details"]["evidence_ids"] == ",".join(decision.evidence_ids)
    proving = {e["id"] for e in events if e["legal_proof"]["proof"]}
    assert set(decision.evidence_ids) <= proving  # R24: the decision names recorded proofs
    closed = terminate(service, case_id)
    assert closed.status_code == 422


def test_a_proof_ccm_never_recorded_cannot_ground_a_decision(service: Service) -> None:
    """R24: an imported notice may make the clock eligible, but its evidence is not ours."""
    today = local_date(datetime.now(UTC))
    outside = {"channel": "registered_mail", "sent_on": (today - timedelta(days=30)).isoformat(),
               "proof": {"kind": "ar_delivered", "on": (today - timedelta(days=25)).isoformat()},
               "evidence_ids": ["ev-from-elsewhere"]}  # fmt: skip
    [case_id] = imported(service, case_file("R24-1", oldest=90, notices=(outside,)))
    assert view(service, case_id)["clock"]["eligible_for_termination"]
    refused = terminate(service, case_id, "suspension")
    assert refused.status_code == 409 and "R24" in refused.json()["detail"]


def _pack(service: Service, case_id: str) -> zipfile.ZipFile:
    response = service.client.get(
        f"/v1/cases/{case_id}/evidence-pack", headers=service.auth("legal")
    )
    assert response.status_code == 200, response.text
    return zipfile.ZipFile(io.BytesIO(response.content))


def test_the_case_pack_verifies_offline_with_its_rn593_certificate(
    service: Service, tmp_path: Path
) -> None:
    [case_id] = imported(service, case_file("PCK-1", email="leitora@example.com"))
    until_proved(service, case_id)
    path = tmp_path / "case.zip"
    pack = _pack(service, case_id)
    path.write_bytes(
        service.client.get(
            f"/v1/cases/{case_id}/evidence-pack", headers=service.auth("legal")
        ).content
    )
    result = service.cli(
        "evidence", "verify", str(path), "--trust", str(service.settings.home / "pki" / "ca.pem")
    )
    assert result.exit_code == 0 and "VERIFIED" in result.output, result.output
    pack.extract("certificate.pdf", tmp_path)
    text = subprocess.run(["pdftotext", "-layout", str(tmp_path / "certificate.pdf"), "-"],
                          capture_output=True, text=True, check=True).stdout  # fmt: skip
    assert "Certificado de Notificação RN 593" in text
    assert "Notificação comprovada em" in text and "E-mail" in text
    assert "AMBIENTE DE TESTE" in text
    manifest = json.loads(pack.read("manifest.json"))
    assert manifest["subject"] == {"kind": "case", "id": case_id}
    assert manifest["legal_proof"]["rule"] == "R14"


def test_the_follow_up_sheet_and_compliance_summary(service: Service, tmp_path: Path) -> None:
    [case_id] = imported(service, case_file("XLS-1", email="leitor2@example.com"))
    until_proved(service, case_id)
    response = service.client.get("/v1/cases/follow-up.xlsx", headers=service.auth("legal"))
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content))["Acompanhamento"]
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert "sandbox" in str(rows[0][0]).lower()
    header = rows[1]
    assert header[:6] == ["Protocolo", "Ticket", "Nome", "CPF", "Data da notificação", "Atendente"]
    [mine] = [r for r in rows if r[1] == "T-XLS-1"]
    stored = get_case(service.engine, case_id)
    assert stored is not None and mine[0] == stored.protocol and mine[3] == "284.197.365-46"
    assert mine[4].date() == local_date(datetime.now(UTC))
    assert "E-mail" in mine[6] and "comprovada" in mine[6]
    summary = service.client.get("/v1/cases/compliance", headers=service.auth("legal")).json()
    assert summary["by_state"]["proved"] >= 1 and summary["cases"] == len(
        service.client.get("/v1/cases", headers=service.auth("legal")).json()
    )
    assert summary["median_days_to_proof"]["email"]["cases"] >= 1
    out = tmp_path / "follow.xlsx"
    result = service.cli("cases", "export", "--out", str(out))
    assert result.exit_code == 0 and load_workbook(out)["Resumo"] is not None


def test_a_proof_sent_to_someone_else_under_the_case_id_does_not_count(
    service: Service,
) -> None:
    """R12: only what was addressed to the payer proves her notice."""
    [case_id] = imported(service, case_file("R12-2"))
    body = json.loads(REQUEST.read_text(encoding="utf-8"))
    body["case_id"] = case_id
    other = {"name": "João Pedro Oliveira", "cpf": "517.309.246-70"}
    body["data"]["payer"].update(other)
    body["recipient"].update(other)
    response = service.client.post(
        "/v1/communications", json=body, headers=service.auth("submitter")
    )
    assert response.status_code == 202, response.text
    assert service.wait_for(response.json()["id"], "proven")["status"] == "proven"
    advance(service, case_id)
    assert not view(service, case_id)["clock"]["proof"]["proven"]
    assert get_case(service.engine, case_id).state is CaseState.NOTIFYING  # type: ignore[union-attr]


def test_a_notice_the_template_would_refuse_is_refused_at_import(service: Service) -> None:
    bad = case_file("TPL-1")
    bad["beneficiaries"][0]["relationship"] = "filho"
    response = upload(service, json.dumps([bad]).encode(), "application/json")
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert error["path"] == "cases[0].notice.beneficiaries[0].relationship"
    assert "TPL-1" in error["rule"]


def test_a_ladder_that_can_only_skip_still_climbs_by_its_clock(service: Service) -> None:
    letter_only = case_file("SKIP-1", source=None)
    letter_only["contacts"]["address"].update(source="addressee", updated_on="2026-02-01")
    [case_id] = imported(service, letter_only)
    first = view(service, case_id)["attempts"]
    assert {a["outcome"] for a in first} == {"skipped"} and len(first) == 3
    assert get_case(service.engine, case_id).started_at is not None  # type: ignore[union-attr]
    days_pass(service, case_id, timedelta(days=5, seconds=1))
    advance(service, case_id)
    eventually(lambda: view(service, case_id)["attempts"][-1]["outcome"] == "proved")
    assert view(service, case_id)["attempts"][-1]["channel"] == "registered_mail"  # AR (R17)


def test_nothing_overdue_yet_is_not_a_payment(service: Service) -> None:
    early = case_file("EARLY-1", oldest=-5)  # both installments fall due in the future
    [case_id] = imported(service, early)
    body = view(service, case_id)
    assert body["state"] == "open" and body["attempts"] == []
    assert body["clock"]["blocks"] == ["paid"]  # the clock sees nothing unpaid yet
    assert get_case(service.engine, case_id).closed_at is None  # type: ignore[union-attr]
    bad_date = service.client.get(
        f"/v1/cases/{case_id}?at=0001-06-01", headers=service.auth("legal")
    )
    assert bad_date.status_code == 422


def test_a_payment_takes_a_queued_agent_call_off_the_agents(
    service: Service, tmp_path: Path
) -> None:
    calls = ladder_profile(tmp_path, steps=(LadderStep(channels=("agent_call",)),))
    path = tmp_path / "call.json"
    result = cli_import(service, path, case_file("AGT-1"), calls)
    assert result.exit_code == 0, result.output
    case_id = result.output.split()[1]
    [call] = view(service, case_id)["attempts"]
    eventually(lambda: get_communication(service.engine, call["communication_id"]).status == "sent")  # type: ignore[union-attr]
    assert cli_import(service, path, case_file("AGT-1", paid=True)).exit_code == 0
    record = get_communication(service.engine, call["communication_id"])
    assert record is not None and record.status == "cancelled"
    report = service.client.post(
        f"/v1/communications/{call['communication_id']}/agent-outcome",
        json={"agent_id": "AT-1", "protocol": "x", "attempt": 1, "outcome": "notified",
              "interlocutor_role": "payer", "identity_confirmed": ["cpf", "birth_date", "address"]},
        headers=service.auth("agent"),
    )  # fmt: skip
    assert report.status_code == 409 and "cancelled" in report.text
    shown = service.cli("cases", "show", case_id)
    assert shown.exit_code == 0 and json.loads(shown.output)["state"] == "paid"
    assert service.cli("cases", "show", "case_nope").exit_code == 1
    assert service.cli("cases", "show", case_id, "--at", "22/11/2026").exit_code == 2


def test_paying_what_is_overdue_closes_the_case_though_next_month_is_open(
    service: Service, tmp_path: Path
) -> None:
    held = ladder_profile(tmp_path, quiet_hours=quiet_now())
    today = local_date(datetime.now(UTC))
    owing = case_file("PAY-2")
    upcoming = {"competence": "2099-01", "due_date": (today + timedelta(days=20)).isoformat(),
                "amount": "612.30", "paid_on": None}  # fmt: skip
    owing["case"]["installments"].append(upcoming)
    path = tmp_path / "owing.json"
    case_id = cli_import(service, path, owing, held).output.split()[1]
    paid = case_file("PAY-2", paid=True)
    paid["case"]["installments"].append(upcoming)
    result = cli_import(service, path, paid)
    assert f"updated {case_id} (paid)" in result.output, result.output
    for attempt in view(service, case_id)["attempts"]:
        record = get_communication(service.engine, attempt["communication_id"])
        assert record is not None and record.status == "cancelled"


def test_a_payment_never_cancels_a_send_under_way_but_stops_a_compose_under_way(
    service: Service, tmp_path: Path
) -> None:
    held = ladder_profile(tmp_path, quiet_hours=quiet_now())
    path = tmp_path / "race.json"
    case_id = cli_import(service, path, case_file("RACE-1"), held).output.split()[1]
    email, whatsapp = (a["communication_id"] for a in view(service, case_id)["attempts"])
    for held_back in (email, whatsapp):  # composed, sends held by the quiet hours
        eventually(lambda c=held_back: _jobs(service, c, "send") == {"pending"})
    with service.engine.begin() as connection:  # the e-mail's send is being made right now
        sending = (jobs.c.communication_id == email) & (jobs.c.kind == "send")
        connection.execute(update(jobs).where(sending).values(state="running"))
        connection.execute(deliveries.insert().values(communication_id=email, channel="email",
                           state="claimed", attempts=1, updated_at=datetime.now(UTC)))  # fmt: skip
        # and the WhatsApp message is being composed (its compose job taken by a worker)
        connection.execute(update(jobs).where(jobs.c.communication_id == whatsapp)
                           .values(state="running"))  # fmt: skip
        connection.execute(jobs.delete().where(jobs.c.communication_id == whatsapp,
                                               jobs.c.kind == "send"))  # fmt: skip
    assert "(paid)" in cli_import(service, path, case_file("RACE-1", paid=True)).output
    assert get_communication(service.engine, email).status != "cancelled"  # type: ignore[union-attr]
    assert get_communication(service.engine, whatsapp).status == "cancelled"  # type: ignore[union-attr]
    events = service.client.get(
        f"/v1/communications/{email}/events", headers=service.auth("legal")
    ).json()
    assert not [e for e in events if e["type"] == "cancelled"]  # no record contradicts the send
    with service.engine.begin() as connection:  # the compose finishes (run again by the worker)
        composing = (jobs.c.communication_id == whatsapp) & (jobs.c.kind == "compose")
        connection.execute(update(jobs).where(composing).values(state="pending"))
    eventually(lambda: _jobs(service, whatsapp, "compose") == {"done"})
    assert _jobs(service, whatsapp, "send") == set()  # composed, never queued to be sent
    assert get_communication(service.engine, whatsapp).status == "cancelled"  # type: ignore[union-attr]


def _jobs(service: Service, communication_id: str, kind: str) -> set[str]:
    with service.engine.connect() as connection:
        return {
            r.state
            for r in connection.execute(
                select(jobs.c.state).where(
                    jobs.c.communication_id == communication_id, jobs.c.kind == kind
                )
            )
        }


def test_a_dispute_heard_by_an_agent_opens_one_on_the_case(
    service: Service, tmp_path: Path
) -> None:
    calls = ladder_profile(tmp_path, steps=(LadderStep(channels=("agent_call",)),))
    path = tmp_path / "heard.json"
    result = cli_import(service, path, case_file("AGT-2"), calls)
    case_id = result.output.split()[1]
    [call] = view(service, case_id)["attempts"]
    queued = service.wait_for(call["communication_id"], "sent", seconds=30)
    report = service.client.post(
        f"/v1/communications/{call['communication_id']}/agent-outcome",
        json={"agent_id": "AT-7", "attempt": 1, "outcome": "disputed",
              "protocol": queued["attempts"][0]["provider_message_id"],
              "interlocutor_role": "payer", "identity_confirmed": ["cpf", "birth_date", "address"]},
        headers=service.auth("agent"),
    )  # fmt: skip
    assert report.status_code == 202, report.text
    eventually(lambda: bool(view(service, case_id)["disputes"]))
    body = view(service, case_id)
    [dispute] = body["disputes"]
    assert dispute["method"] == "agent_call" and dispute["answered_on"] is None
    assert "dispute_open" in body["clock"]["blocks"] and not body["clock"]["proof"]["proven"]


def test_a_phone_that_arrives_after_its_steps_gets_a_round_instead_of_exhausted(
    service: Service,
) -> None:
    unsourced = case_file("RND-2", source=None)
    unsourced["contacts"]["email"] |= {"source": "contractor", "updated_on": "2026-01-10"}
    [case_id] = imported(service, unsourced)
    settled(service, case_id)
    days_pass(service, case_id, timedelta(days=5, seconds=1))
    advance(service, case_id)  # the IVR, the agent and the letter skipped: nothing usable
    sourced = json.loads(json.dumps(unsourced))
    sourced["contacts"]["phone"] = {"value": "+5511987654322", "source": "addressee",
                                    "updated_on": "2026-11-01"}  # fmt: skip
    update = upload(service, json.dumps([sourced]).encode(), "application/json")
    assert update.json()["restarted"] == []  # the round is still under way
    days_pass(service, case_id, timedelta(days=5))
    stale = get_case(service.engine, case_id)  # as a slower worker read it
    assert stale is not None and stale.round == 0
    moved = advance(service, case_id)  # the round is over: a new one on the new phone
    assert moved.round == 1 and moved.state is CaseState.NOTIFYING
    ladder = service.client.app.state.services.ladder  # type: ignore[attr-defined]
    ladder.advance(case_id, stale)  # the slower worker must not end the new round
    body = view(service, case_id)
    assert body["state"] == "notifying" and body["round"] == 2
    launched = [(a["round"], a["channel"]) for a in body["attempts"] if a["communication_id"]]
    assert launched == [(1, "email"), (2, "whatsapp")]  # the new round starts at its first step
    events = [
        json.loads(line) for line in _pack(service, case_id).read("events.jsonl").splitlines()
    ]
    assert not [e for e in events if e["type"] == "attempts_exhausted"]
