"""Batches: JSONL and CSV, rows accepted or rejected one by one, progress, retry of failures."""

import csv
import io
import json
import time
from typing import Any

from tests.api.conftest import Service


def _jsonl(rows: list[dict[str, Any]]) -> bytes:
    return b"".join(json.dumps(r).encode() + b"\n" for r in rows)


def _post(service: Service, content: bytes, kind: str, who: str = "submitter") -> Any:
    return service.client.post(
        "/v1/batches", content=content, headers={**service.auth(who), "Content-Type": kind}
    )


def _wait(service: Service, batch_id: str, seconds: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    while True:
        view: dict[str, Any] = service.client.get(
            f"/v1/batches/{batch_id}", headers=service.auth("submitter")
        ).json()
        if view["done"] or time.monotonic() > deadline:
            return view
        time.sleep(0.2)


def test_a_jsonl_batch_reports_each_rejected_row_and_completes_the_rest(
    service: Service, request_body: dict[str, Any]
) -> None:
    bad_cpf = json.loads(json.dumps(request_body))
    bad_cpf["recipient"]["cpf"] = "123"
    dependent = json.loads(json.dumps(request_body))
    dependent["recipient"]["role"] = "dependent"
    rows = [request_body, bad_cpf, request_body | {"case_id": "C-2"}, dependent]
    content = _jsonl(rows) + b"{not json\n"
    response = _post(service, content, "application/x-ndjson")
    assert response.status_code == 202, response.text
    created = response.json()
    assert (created["total"], created["accepted"], created["rejected"]) == (5, 2, 3)
    view = _wait(service, created["id"])
    assert view["done"] and view["statuses"] == {"proven": 2}
    rejected = {r["row"]: r["errors"] for r in view["rejections"]}
    assert set(rejected) == {2, 4, 5}
    assert rejected[2][0]["path"] == "recipient.cpf"
    assert "R12" in rejected[4][0]["rule"]
    assert "not JSON" in rejected[5][0]["rule"]

    path = f"/v1/batches/{created['id']}/rows"
    first = service.client.get(f"{path}?limit=3", headers=service.auth("submitter")).json()
    rest = service.client.get(
        f"{path}?offset={first['next_offset']}", headers=service.auth("submitter")
    ).json()
    assert first["next_offset"] == 3 and rest["next_offset"] is None
    listed = first["rows"] + rest["rows"]
    assert [r["row"] for r in listed] == [1, 2, 3, 4, 5]
    assert [r["status"] for r in listed] == ["proven", None, "proven", None, None]
    assert listed[1]["errors"] == rejected[2] and not listed[0]["errors"]
    communication = listed[2]["communication_id"]
    assert (
        service.client.get(
            f"/v1/communications/{communication}", headers=service.auth("submitter")
        ).json()["case_id"]
        == "C-2"
    )
    assert service.client.get(path, headers=service.auth("other")).status_code == 404


def test_a_csv_batch(service: Service, request_body: dict[str, Any]) -> None:
    output = io.StringIO()
    columns = ["template", "locale", "recipient_id", "recipient_name", "recipient_cpf",
               "recipient_role", "recipient_email", "channels", "case_id", "data"]  # fmt: skip
    writer = csv.DictWriter(output, fieldnames=columns)
    writer.writeheader()
    recipient = request_body["recipient"]
    for row in range(3):
        writer.writerow(
            {
                "template": "delinquency_notice",
                "locale": "pt-BR",
                "recipient_id": f"R{row}",
                "recipient_name": recipient["name"],
                "recipient_cpf": recipient["cpf"],
                "recipient_role": "payer",
                "recipient_email": recipient["email"],
                "channels": "email",
                "case_id": f"CSV-{row}",
                "data": json.dumps(request_body["data"]) if row != 1 else "{broken",
            }
        )
    response = _post(service, output.getvalue().encode(), "text/csv")
    assert response.status_code == 202, response.text
    assert (response.json()["accepted"], response.json()["rejected"]) == (2, 1)


def test_retry_failed_resends_only_the_failed_rows(
    service: Service, request_body: dict[str, Any]
) -> None:
    created = _post(service, _jsonl([request_body, request_body]), "application/x-ndjson").json()
    view = _wait(service, created["id"])
    assert view["statuses"] == {"proven": 2}
    assert service.client.post(
        f"/v1/batches/{created['id']}/retry-failed", headers=service.auth("submitter")
    ).json() == {"retried": 0}


def test_batches_refuse_what_they_cannot_read(service: Service) -> None:
    assert _post(service, b"x", "application/pdf").status_code == 415
    assert _post(service, b"\xff\xfe", "text/csv").status_code == 400
    assert _post(service, b"\n", "application/x-ndjson").status_code == 422
    assert _post(service, b"{}", "application/x-ndjson", who="editor").status_code == 403
    other = service.client.get("/v1/batches/bat_nope", headers=service.auth("submitter"))
    assert other.status_code == 404


def test_a_batch_is_visible_to_its_submitter_only(
    service: Service, request_body: dict[str, Any]
) -> None:
    created = _post(service, _jsonl([request_body]), "application/x-ndjson").json()
    path = f"/v1/batches/{created['id']}"
    assert service.client.get(path, headers=service.auth("other")).status_code == 404
    assert service.client.get(path, headers=service.auth("legal")).status_code == 200


def test_retry_failed_touches_only_failed_rows(
    service: Service, request_body: dict[str, Any]
) -> None:
    refused = json.loads(json.dumps(request_body))
    refused["recipient"]["email"] = "rejeitar@example.com"  # the sandbox refuses it for good
    created = _post(service, _jsonl([request_body, refused]), "application/x-ndjson").json()
    view = _wait(service, created["id"])
    assert view["statuses"] == {"proven": 1, "failed": 1}
    retried = service.client.post(
        f"/v1/batches/{created['id']}/retry-failed", headers=service.auth("submitter")
    )
    assert retried.json() == {"retried": 1}
    view = _wait(service, created["id"])
    assert view["statuses"] == {"proven": 1, "failed": 1}  # refused again, and said so
