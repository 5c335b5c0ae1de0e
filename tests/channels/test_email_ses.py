"""E-mail through Amazon SES v2 (a moto server on loopback), reached by failover when the
SMTP server is down: one evidence chain, the signed bytes intact, the receipt matched
through SES's own Message-ID."""

import base64
import json
import os
import threading
import urllib.request
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID
from moto.server import ThreadedMotoServer

from ccm.persistence.artifacts import FileArtifactStore
from channels.mdn import build_mdn
from channels.ses_events import string_to_sign
from signing import DevelopmentPki
from tests.api.conftest import Service, request_body, running_service
from tests.conftest import run
from tests.servers import free_port

pytestmark = pytest.mark.xdist_group("ses")
__all__ = ["request_body"]  # the fixture, shared with the API tests

REGION = "sa-east-1"
TOPIC = f"arn:aws:sns:{REGION}:123456789012:ses-eventos"


class Sns:
    """Signs messages as Amazon SNS does, with a key whose certificate it serves on
    loopback (the service is told to fetch certificates from there, not from AWS)."""

    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.sa-east-1.amazonaws.com")])
        now = datetime.now(UTC)
        cert = (
            x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(self.key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=30))
            .sign(self.key, hashes.SHA256())
        )  # fmt: skip
        pem = cert.public_bytes(serialization.Encoding.PEM)
        self.confirmed: list[str] = []
        sns = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server's hook name
                if self.path.startswith("/confirm"):
                    sns.confirmed.append(self.path)
                body = pem if self.path == "/SimpleNotificationService-0123abcd.pem" else b"<ok/>"
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def message(self, kind: str, version: str = "2", **fields: str) -> dict[str, str]:
        message = {"Type": kind, "MessageId": str(uuid.uuid4()), "TopicArn": TOPIC,
                   "Timestamp": datetime.now(UTC).isoformat(timespec="milliseconds"),
                   "SignatureVersion": version,
                   "SigningCertURL": f"{self.base}/SimpleNotificationService-0123abcd.pem",
                   **fields}  # fmt: skip
        algorithm = hashes.SHA256() if version == "2" else hashes.SHA1()  # noqa: S303
        signature = self.key.sign(string_to_sign(message), padding.PKCS1v15(), algorithm)
        message["Signature"] = base64.b64encode(signature).decode()
        return message

    def event(self, event: dict[str, Any], version: str = "2") -> dict[str, str]:
        return self.message("Notification", version, Message=json.dumps(event))


@pytest.fixture(scope="module")
def sns() -> Iterator[Sns]:
    signer = Sns()
    yield signer
    signer.server.shutdown()
    signer.server.server_close()


@pytest.fixture(scope="module")
def ses_service(
    tmp_path_factory: pytest.TempPathFactory, pki: Any, home: Path, sns: Sns
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
            ses_sns_topic_arns=[TOPIC],
            sns_certificate_url_pattern=r"http://127\.0\.0\.1:[0-9]+/.*",
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


def _post_sns(service: Service, message: dict[str, str]) -> int:
    headers = {"Content-Type": "text/plain; charset=UTF-8", "x-amz-sns-message-type": "x"}
    return int(
        service.client.post(
            "/v1/webhooks/ses/sns", content=json.dumps(message), headers=headers
        ).status_code
    )


def _ses_send(service: Service, body: dict[str, Any], email: str) -> tuple[str, str]:
    body["recipient"]["email"] = email
    created = service.client.post(
        "/v1/communications", json=body, headers=service.auth("submitter")
    ).json()
    assert service.wait_for(created["id"], "sent", seconds=30)["status"] == "sent"
    events = service.client.get(created["links"]["events"], headers=service.auth("legal")).json()
    [relay] = [e for e in events if e["type"] == "relay_accepted"]
    return created["id"], relay["provider_message_id"]


def _ses_event(kind: str, message_id: str, **extra: Any) -> dict[str, Any]:
    return {"eventType": kind, "mail": {"messageId": message_id, "source": "x@vidaplena.example",
            "timestamp": datetime.now(UTC).isoformat()}, **extra}  # fmt: skip


def test_ses_events_arrive_through_signed_sns_messages(
    ses_service: tuple[Service, str], sns: Sns, request_body: dict[str, Any]
) -> None:
    service, _ = ses_service
    subscribe = sns.message(
        "SubscriptionConfirmation",
        Message="You have chosen to subscribe to the topic.",
        SubscribeURL=f"{sns.base}/confirm?Action=ConfirmSubscription&TopicArn={TOPIC}&Token=t1",
        Token="t1",
    )
    assert _post_sns(service, subscribe) == 204
    assert sns.confirmed == [f"/confirm?Action=ConfirmSubscription&TopicArn={TOPIC}&Token=t1"]

    delivered_id, ses_id = _ses_send(service, request_body, "entregue@example.com")
    delivery = sns.event(_ses_event("Delivery", ses_id, delivery={"smtpResponse": "250 ok"}))
    assert _post_sns(service, delivery) == 204
    assert _post_sns(service, delivery) == 204  # SNS retries: recorded once
    assert service.wait_for(delivered_id, "delivered")["status"] == "delivered"
    opened = sns.event(_ses_event("Open", ses_id, open={"ipAddress": "203.0.113.9"}), "1")
    assert _post_sns(service, opened) == 204

    bounced_id, bounced_ses = _ses_send(service, request_body, "inexistente@example.org")
    bounce = {"bounceType": "Permanent", "bounceSubType": "General", "bouncedRecipients": [
        {"emailAddress": "inexistente@example.org", "status": "5.1.1",
         "diagnosticCode": "smtp; 550 5.1.1 user unknown"}]}  # fmt: skip
    transient = sns.event(_ses_event("Bounce", bounced_ses, bounce={"bounceType": "Transient"}))
    assert _post_sns(service, transient) == 204  # not evidence: SES keeps trying
    assert _post_sns(service, sns.event(_ses_event("Bounce", bounced_ses, bounce=bounce))) == 204
    assert service.wait_for(bounced_id, "failed")["status"] == "failed"

    events = service.client.get(
        f"/v1/communications/{delivered_id}/events", headers=service.auth("legal")
    ).json()
    kinds = [e["type"] for e in events]
    assert kinds.count("content_handed_over") == 1 and kinds.count("content_accessed") == 1
    [failure] = [
        e
        for e in service.client.get(
            f"/v1/communications/{bounced_id}/events", headers=service.auth("legal")
        ).json()
        if e["type"] == "handover_failed"
    ]
    assert failure["reasons"] == ["General 5.1.1 smtp; 550 5.1.1 user unknown"]
    [handed] = [e for e in events if e["type"] == "content_handed_over"]
    store = FileArtifactStore(service.settings.home / "artifacts")
    kept = json.loads(store.get(handed["payload_sha256"]))
    assert kept["Signature"] == delivery["Signature"]  # AWS's signed message, checkable later


def test_unauthentic_sns_messages_are_refused_unread(
    ses_service: tuple[Service, str], sns: Sns
) -> None:
    service, _ = ses_service
    event = sns.event(_ses_event("Delivery", "0100019a-nunca"))
    tampered = {**event, "Message": event["Message"].replace("Delivery", "Bounce")}
    assert _post_sns(service, tampered) == 403
    other_topic = {**event, "TopicArn": "arn:aws:sns:sa-east-1:999999999999:outro"}
    assert _post_sns(service, other_topic) == 403
    foreign_cert = {**event, "SigningCertURL": "https://example.com/cert.pem"}
    assert _post_sns(service, foreign_cert) == 403
    newline = {**event, "SigningCertURL": event["SigningCertURL"] + "\n"}
    assert _post_sns(service, newline) == 403
    assert _post_sns(service, {**event, "Signature": "bm9wZQ=="}) == 403
    response = service.client.post("/v1/webhooks/ses/sns", content=b"not json")
    assert response.status_code == 422 and response.json()["errors"][0]["path"] == "body"
    assert _post_sns(service, event) == 204  # authentic, about no message ccm sent: ignored
