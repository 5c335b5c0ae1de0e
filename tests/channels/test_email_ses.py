"""E-mail through Amazon SES v2 (a moto server on loopback), reached by failover when the
SMTP server is down: one evidence chain, the signed bytes intact, the receipt matched
through SES's own Message-ID."""

import json
import os
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from ccm.persistence.artifacts import FileArtifactStore
from channels.mdn import build_mdn
from signing import DevelopmentPki
from tests.api.conftest import Service, request_body, running_service
from tests.conftest import run
from tests.servers import free_port

pytestmark = pytest.mark.xdist_group("ses")
__all__ = ["request_body"]  # the fixture, shared with the API tests

REGION = "sa-east-1"


@pytest.fixture(scope="module")
def ses_service(
    tmp_path_factory: pytest.TempPathFactory, pki: Any, home: Path
) -> Iterator[tuple[Service, str]]:
    saved = {k: os.environ.get(k) for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}
    os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing")
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    boto3.client("sesv2", region_name=REGION, endpoint_url=endpoint).create_email_identity(
        EmailIdentity="vidaplena.example"
    )
    down = free_port()  # nothing listens here: the SMTP server is "down"
    try:
        with running_service(
            tmp_path_factory.mktemp("ses"),
            home,
            email_transports=["smtp", "ses"],
            smtp_url=f"smtp://127.0.0.1:{down}?security=none",
            email_envelope_from="devolucoes@vidaplena.example",
            ses_endpoint_url=endpoint,
            ses_region=REGION,
        ) as service:
            yield service, endpoint
    finally:
        server.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def test_smtp_down_fails_over_to_ses_and_the_receipt_proves_it(
    ses_service: tuple[Service, str],
    request_body: dict[str, Any],
    pki: DevelopmentPki,
    tmp_path: Path,
) -> None:
    service, endpoint = ses_service
    created = service.client.post(
        "/v1/communications", json=request_body, headers=service.auth("submitter")
    )
    communication_id = created.json()["id"]
    assert service.wait_for(communication_id, "sent", seconds=30)["status"] == "sent"
    events = service.client.get(
        f"/v1/communications/{communication_id}/events", headers=service.auth("legal")
    ).json()
    [relay] = [e for e in events if e["type"] == "relay_accepted"]
    assert relay["provider"] == "ses"
    store = FileArtifactStore(service.settings.home / "artifacts")
    receipt = json.loads(store.get(relay["payload_sha256"]))
    assert receipt["failed_over"][0]["provider"] == "smtp"
    assert "Connection refused" in receipt["failed_over"][0]["error"]

    with urllib.request.urlopen(f"{endpoint}/moto-api/data.json") as answer:
        sent = json.load(answer)["ses"]["RawMessage"]
    [raw] = [m["raw_data"] for m in sent if m["id"] == relay["provider_message_id"]]
    path = tmp_path / "sent.eml"
    path.write_bytes(raw.encode())
    ca = str(pki.ca_certificate)
    verified = run("openssl", "smime", "-verify", "-in", str(path), "-CAfile", ca,
                   "-purpose", "smimesign", "-out", os.devnull)  # fmt: skip
    assert verified.returncode == 0, verified.stderr

    receipt_mail = build_mdn(
        original_message_id=f"<{relay['provider_message_id']}@{REGION}.amazonses.com>",
        reader="maria.oliveira@example.com",
        sender="atendimento@vidaplena.example",
        subject="Aviso",
        at=datetime.now(UTC),
        reporting_ua="mail.example.com; Thunderbird 128",
    )
    posted = service.client.post(
        "/v1/inbound/email",
        content=receipt_mail,
        headers={**service.auth("gateway"), "Content-Type": "message/rfc822"},
    )
    assert posted.status_code == 202, posted.text
    proven = service.wait_for(communication_id, "proven")
    assert proven["proof"]["rule"] == "R14"
