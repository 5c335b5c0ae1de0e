"""Registered letters with AR: S10 labels from the contracted range, the print batch
(`ccm mail export`), AR returns (`ccm mail import-ar`) as the R17 proof or a returned letter."""

import csv
import hashlib
import io
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from ccm.evidence.verify import verify_pack
from ccm.identifiers.tracking import make_tracking_code, validate_tracking_code
from signing import DevelopmentPki
from signing.verification import OfflineVerifier
from tests.api.conftest import Service, request_body, running_service

pytestmark = pytest.mark.xdist_group("registered_mail")
__all__ = ["request_body"]  # the fixture, shared with the API tests

FIRST = "RB473124829BR"  # serial 47312482, check digit 9 (a published S10 vector)


@pytest.fixture(scope="module")
def mail_service(
    tmp_path_factory: pytest.TempPathFactory, pki: Any, home: Path
) -> Iterator[Service]:
    with running_service(
        tmp_path_factory.mktemp("mail"),
        home,
        correios_label_prefix="RB",
        correios_label_first=47312482,
        correios_label_last=47312499,
    ) as service:
        yield service


def _letter(service: Service, body: dict[str, Any], recipient_id: str) -> str:
    body["recipient"]["id"] = recipient_id
    body["channels"] = ["registered_mail"]
    response = service.client.post(
        "/v1/communications", json=body, headers=service.auth("submitter")
    )
    assert response.status_code == 202, response.text
    communication_id = str(response.json()["id"])
    assert service.wait_for(communication_id, "sent", seconds=30)["status"] == "sent"
    return communication_id


def _tracking(service: Service, communication_id: str) -> str:
    view = service.client.get(
        f"/v1/communications/{communication_id}", headers=service.auth("submitter")
    ).json()
    return str(view["attempts"][0]["provider_message_id"])


def _events(service: Service, communication_id: str, kind: str) -> list[dict[str, Any]]:
    events = service.client.get(
        f"/v1/communications/{communication_id}/events", headers=service.auth("legal")
    ).json()
    return [e for e in events if e["type"] == kind]


def _ar_file(path: Path, rows: list[dict[str, str]]) -> Path:
    columns = ["tracking_code", "status", "date", "receiver_name", "receiver_document"]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_letters_go_to_print_and_the_ar_proves_them(
    mail_service: Service, request_body: dict[str, Any], pki: DevelopmentPki, tmp_path: Path
) -> None:
    service = mail_service
    first = _letter(service, request_body, "BEN-AR-1")
    second = _letter(service, request_body, "BEN-AR-2")
    codes = [_tracking(service, first), _tracking(service, second)]
    assert codes[0] == FIRST and validate_tracking_code(codes[1]) == codes[1]
    assert codes[1].startswith("RB47312483")

    exported = service.cli("mail", "export", "--out", str(tmp_path / "print"))
    assert exported.exit_code == 0, exported.output
    assert "2 letters" in exported.output
    [pdf] = (tmp_path / "print").glob("*.pdf")
    [manifest] = (tmp_path / "print").glob("*.csv")
    rows = list(csv.DictReader(io.StringIO(manifest.read_text(encoding="utf-8"))))
    assert [r["tracking_code"] for r in rows] == codes
    assert rows[0]["addressee_name"] == request_body["recipient"]["name"]
    assert rows[0]["postal_code"] == "04107-020" and rows[0]["additional_services"] == "001"
    document = service.client.get(
        f"/v1/communications/{first}/document", headers=service.auth("legal")
    ).content
    assert rows[0]["sha256"] == hashlib.sha256(document).hexdigest()
    pages = sum(int(r["pages"]) + int(r["pages"]) % 2 for r in rows)  # duplex padding
    assert len(PdfReader(pdf).pages) == pages
    assert "no letters waiting" in service.cli("mail", "export", "--out", str(tmp_path)).output

    bad = _ar_file(tmp_path / "bad.csv", [
        {"tracking_code": codes[0], "status": "entregue", "date": "2026-11-20",
         "receiver_name": "Maria", "receiver_document": ""},
        {"tracking_code": "RB473124820BR", "status": "delivered", "date": "20/11/2026",
         "receiver_name": "", "receiver_document": ""},
    ])  # fmt: skip
    refused = service.cli("mail", "import-ar", str(bad))
    assert refused.exit_code == 2, refused.output
    assert "row 2.status" in refused.output and "row 3.tracking_code" in refused.output
    stranger = _ar_file(tmp_path / "stranger.csv", [
        {"tracking_code": codes[0], "status": "delivered", "date": "2026-11-20",
         "receiver_name": "Maria", "receiver_document": ""},
        {"tracking_code": make_tracking_code("RB", 47312500), "status": "delivered",
         "date": "2026-11-20",
         "receiver_name": "José", "receiver_document": ""},
    ])  # fmt: skip
    unknown = service.cli("mail", "import-ar", str(stranger))
    assert unknown.exit_code == 2 and "no letter sent by ccm" in unknown.output
    time.sleep(0.5)
    assert not _events(service, first, "recipient_accepted")  # nothing half-written

    images = tmp_path / "ar"
    images.mkdir()
    (images / f"{codes[0]}.png").write_bytes(b"\x89PNG\r\n\x1a\n scanned AR card")
    good = _ar_file(tmp_path / "ar.csv", [
        {"tracking_code": codes[0], "status": "delivered", "date": "2026-11-19",
         "receiver_name": "José Oliveira (porteiro)", "receiver_document": "12.345.678-9"},
        {"tracking_code": codes[1], "status": "refused", "date": "2026-11-18",
         "receiver_name": "", "receiver_document": ""},
    ])  # fmt: skip
    imported = service.cli("mail", "import-ar", str(good), "--images", str(images))
    assert imported.exit_code == 0, imported.output
    assert "1 delivered, 1 returned; 1 with images" in imported.output

    proven = service.wait_for(first, "proven")
    assert proven["proof"]["rule"] == "R17"
    assert proven["proof"]["date"].startswith("2026-11-19")  # the AR's date, not today's
    [ar] = _events(service, first, "recipient_accepted")
    assert ar["details"]["tracking_code"] == codes[0]
    assert {a["role"] for a in ar["artifacts"]} == {"ar_record", "ar_image"}
    assert service.wait_for(second, "failed")["status"] == "failed"
    [returned] = _events(service, second, "handover_failed")
    assert "recusado" in returned["reasons"][0]

    pack = service.client.get(
        f"/v1/communications/{first}/evidence-pack", headers=service.auth("legal")
    )
    assert verify_pack(pack.content, verifier=OfflineVerifier([pki.ca()])).ok
