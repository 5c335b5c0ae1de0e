"""A complete evidence trail for the sample delinquency notice, sent through the sandbox.

Used by ``ccm evidence sample`` so that legal can see a real pack before the service
runs: the notice is composed from the template library's sample data, signed (PAdES),
assembled into an e-mail with the signed PDF attached, handed to the sandbox channel,
and the sandbox's simulated delivery callback and read receipt (MDN "displayed") are
recorded, each artefact stored by its SHA-256 and each step sealed into the ledger.
"""

import hashlib
import json
from datetime import datetime, timedelta
from typing import Any, Protocol

from ccm.composition import Composer, DocumentRendering, EmailRendering
from ccm.composition.mime import build_email
from ccm.evidence.events import ArtifactRef, Channel, EventType, EvidenceEvent
from ccm.evidence.ledger import Ledger
from ccm.evidence.pack import PackParties
from ccm.ports import ArtifactStore, ProviderSignal, SendReceipt

__all__ = ["SandboxMailer", "record_sample_notice", "sample_notice_data"]

NOTICE = "delinquency_notice"


class SandboxMailer(Protocol):
    """What the sample needs from the sandbox e-mail channel."""

    provider: str

    def send(self, message: bytes, *, communication_id: str) -> SendReceipt: ...

    def simulate_delivery(self, receipt: SendReceipt, *, after: timedelta) -> ProviderSignal: ...

    def simulate_read(
        self, receipt: SendReceipt, message: bytes, *, after: timedelta
    ) -> ProviderSignal: ...


def _ref(store: ArtifactStore, role: str, data: bytes, media_type: str) -> ArtifactRef:
    stored = store.put(data, media_type=media_type)
    return ArtifactRef(role=role, sha256=stored.sha256, media_type=media_type)


def record_sample_notice(
    *,
    composer: Composer,
    ledger: Ledger,
    store: ArtifactStore,
    mailer: SandboxMailer,
    data: dict[str, Any],
    communication_id: str,
    signature: str,
    now: datetime,
) -> PackParties:
    """Compose, sign, "send" and record the sample notice; return its parties.

    Parameters:
        signature: ``icp_brasil`` or ``development``: what signed the document (R14).
    """
    composition = composer.prepare(NOTICE, data, locale="pt-BR")
    document = composer.render(composition, "document")
    email = composer.render(composition, "email")
    assert isinstance(document, DocumentRendering) and isinstance(email, EmailRendering)
    message = build_email(
        composition, email, attachment=(f"{composition.doc.id}.pdf", document.pdf)
    ).as_bytes()
    common: dict[str, Any] = {"communication_id": communication_id, "actor": "ccm"}
    template = {
        "template": document.template,
        "template_digest": document.template_digest,
        "document_id": composition.doc.id,
    }
    pdf = _ref(store, "signed_document", document.pdf, "application/pdf")
    eml = _ref(store, "message", message, "message/rfc822")
    ledger.append_many(
        [
            EvidenceEvent(
                type=EventType.SUBMISSION_ACCEPTED,
                channel=Channel.EMAIL,
                occurred_at=now,
                details={"template": NOTICE},
                **{**common, "actor": "client:sample"},
            ),
            EvidenceEvent(
                type=EventType.CONTENT_COMPOSED,
                channel=Channel.EMAIL,
                occurred_at=now,
                details=template,
                **common,
            ),
            EvidenceEvent(
                type=EventType.DOCUMENT_SIGNED,
                channel=Channel.EMAIL,
                occurred_at=now,
                artifacts=(pdf,),
                details={"signature": signature, "document_id": composition.doc.id},
                **common,
            ),
        ]
    )
    receipt = mailer.send(message, communication_id=communication_id)
    response = store.put(receipt.raw_response, media_type="application/json")
    sandbox = {"sandbox": "true"} if receipt.sandbox else {}
    provider: dict[str, Any] = {
        "provider": receipt.provider,
        "provider_message_id": receipt.provider_message_id,
    }
    ledger.append(
        EvidenceEvent(
            type=EventType.RELAY_ACCEPTED,
            channel=Channel.EMAIL,
            occurred_at=receipt.accepted_at,
            artifacts=(eml,),
            payload_sha256=response.sha256,
            details={**sandbox, "method": "smtp"},
            **provider,
            **common,
        )
    )
    delivered = mailer.simulate_delivery(receipt, after=timedelta(seconds=4))
    callback = store.put(delivered.raw, media_type=delivered.media_type)
    ledger.append(
        EvidenceEvent(
            type=EventType.CONTENT_HANDED_OVER,
            channel=Channel.EMAIL,
            occurred_at=delivered.occurred_at,
            payload_sha256=callback.sha256,
            provider_event_id=hashlib.sha256(delivered.raw).hexdigest()[:32],
            details={**sandbox, "signature": signature, "provider_status": "delivered"},
            **provider,
            **{**common, "actor": f"provider:{receipt.provider}"},
        )
    )
    read = mailer.simulate_read(receipt, message, after=timedelta(minutes=17, seconds=32))
    mdn = _ref(store, "mdn", read.raw, read.media_type)
    ledger.append(
        EvidenceEvent(
            type=EventType.CONTENT_ACCESSED,
            channel=Channel.EMAIL,
            occurred_at=read.occurred_at,
            artifacts=(mdn,),
            details={**sandbox, "method": "mdn", "disposition": "displayed"},
            **provider,
            **{**common, "actor": "recipient"},
        )
    )
    payer = data["payer"]
    return PackParties(
        operator=data["operator"],
        addressee={"name": payer["name"], "cpf": payer["cpf"], "address": payer["address"]},
        communications=[
            {
                "id": communication_id,
                "title": composition.doc.title,
                "document_id": composition.doc.id,
            }
        ],
    )


def sample_notice_data(path: Any) -> dict[str, Any]:
    """The notice sample data shipped with the template library."""
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return loaded
