"""What workers do: compose and sign, send on each channel, record each provider signal.

Every step is safe to run twice. Events are recorded only if the ledger does not hold
them yet; a send claims its delivery row (communication + channel) before the provider
is called and passes the same idempotency key on every retry, so a crash between the
provider's answer and our bookkeeping re-sends nothing (the sandbox finds its receipt;
real providers get the key where they accept one).
"""

import json
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, case, select, update
from sqlalchemy.engine import Connection

from ccm.composition import (
    AgentScriptRendering,
    Composer,
    DocumentRendering,
    EmailRendering,
    TextRendering,
    VoiceRendering,
)
from ccm.composition.composer import Composition
from ccm.composition.mime import build_email
from ccm.errors import EvidenceError, PermanentChannelError
from ccm.evidence.events import ArtifactRef, Channel, EventType, EvidenceEvent
from ccm.evidence.ledger import Ledger
from ccm.evidence.proof import assess
from ccm.evidence.records import EvidenceRecord
from ccm.identifiers.protocol import ProtocolIssuer
from ccm.persistence.db import upsert_insert
from ccm.persistence.tables import communications, deliveries, jobs
from ccm.ports import (
    IVR_SCRIPT_MEDIA_TYPE,
    WHATSAPP_TEMPLATE_MEDIA_TYPE,
    ArtifactStore,
    ChannelAdapter,
    MessageSigner,
    OutgoingMessage,
    RecordingSource,
)
from ccm.service.communications import CommunicationRecord, Status, get_communication
from ccm.service.inbound import release_early_signals
from ccm.service.ivr import expected_identity
from ccm.service.outbox import Job, add_job, claim, finish, give_back
from ccm.service.recipients import BRASILIA, next_allowed
from ccm.service.templates import TemplateCatalog

__all__ = ["Pipeline"]

_RANK = {"claimed": 0, "sent": 1, "delivered": 2, "proven": 3, "failed": -1}
_STATUS = {0: Status.PROCESSING, 1: Status.SENT, 2: Status.DELIVERED, 3: Status.PROVEN}


def _now() -> datetime:
    return datetime.now(UTC)


class Pipeline:
    """Runs jobs by id. One per worker process, shared by its threads."""

    def __init__(
        self,
        *,
        engine: Engine,
        catalog: TemplateCatalog,
        ledger: Ledger,
        store: ArtifactStore,
        channels: Mapping[str, ChannelAdapter],
        signature: str,
        email_signer: MessageSigner | None = None,
        protocols: ProtocolIssuer | None = None,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self._engine = engine
        self._catalog = catalog
        self._ledger = ledger
        self._store = store
        self._channels = channels
        self._signature = signature
        self._email_signer = email_signer
        self._protocols = protocols
        self._clock = clock
        self._insert = upsert_insert(engine)

    def run(self, job_id: int) -> None:
        """Run job ``job_id`` if it is due and nobody else holds it.

        Failures are recorded on the job and retried with backoff; they never escape,
        so the broker does not retry behind the outbox's back.
        """
        job = claim(self._engine, job_id, now=self._clock())
        if job is None:
            return
        try:
            {"compose": self._compose, "send": self._send, "signal": self._signal}[job.kind](job)
        except PermanentChannelError as err:
            self._refused(job, err)
        except Exception as err:  # noqa: BLE001 - recorded on the job, retried or failed
            retried = give_back(
                self._engine, job, error=f"{type(err).__name__}: {err}", now=self._clock()
            )
            if not retried and job.kind == "send" and job.channel:
                self._set_delivery(job.communication_id, job.channel, "failed")
                self._fail_if_nothing_left(job)

    # -- steps -------------------------------------------------------------------------

    def _compose(self, job: Job) -> None:
        record = self._communication(job.communication_id)
        channel = Channel(record.channels[0]) if record.channels else Channel.SYSTEM
        common: dict[str, Any] = {"communication_id": record.id, "case_id": record.case_id}
        recorded = self._ledger.records(communication_id=record.id)
        if not _has(recorded, EventType.SUBMISSION_ACCEPTED):
            self._ledger.append(
                EvidenceEvent(
                    type=EventType.SUBMISSION_ACCEPTED,
                    channel=channel,
                    occurred_at=record.created_at,
                    actor=f"api_key:{record.submitted_by}",
                    details=self._submission_details(record),
                    **common,
                )
            )
        composer, composition = self._composition(record)
        document = composer.render(composition, "document")
        assert isinstance(document, DocumentRendering)
        if not _has(recorded, EventType.DOCUMENT_SIGNED):
            stored = self._store.put(document.pdf, media_type="application/pdf")
            self._ledger.append_many(
                [
                    EvidenceEvent(
                        type=EventType.CONTENT_COMPOSED,
                        channel=channel,
                        occurred_at=self._clock(),
                        actor="ccm",
                        details={
                            "template": document.template,
                            "template_digest": document.template_digest,
                            "document_id": composition.doc.id,
                        },
                        **common,
                    ),
                    EvidenceEvent(
                        type=EventType.DOCUMENT_SIGNED,
                        channel=channel,
                        occurred_at=self._clock(),
                        actor="ccm",
                        artifacts=(
                            ArtifactRef(
                                role="signed_document",
                                sha256=stored.sha256,
                                media_type="application/pdf",
                            ),
                        ),
                        details={"signature": self._signature, "document_id": composition.doc.id},
                        **common,
                    ),
                ]
            )
            sha256 = stored.sha256
        else:
            sha256 = _signed_document(recorded, record.id)
        now = self._clock()
        with self._engine.begin() as connection:
            connection.execute(  # a cancelled communication stays cancelled
                update(communications)
                .where(communications.c.id == record.id)
                .values(
                    document_sha256=sha256,
                    status=case(
                        (communications.c.status == Status.CANCELLED, Status.CANCELLED),
                        else_=Status.PROCESSING,
                    ),
                    updated_at=now,
                )
            )
            queued = {
                r.channel
                for r in connection.execute(
                    select(jobs.c.channel).where(
                        jobs.c.communication_id == record.id, jobs.c.kind == "send"
                    )
                )
            }
            # Rule R22: nothing goes out in the recipient's quiet hours.
            send_at = next_allowed(now, record.recipient.get("quiet_hours"))
            cancelled = (
                connection.execute(
                    select(communications.c.status).where(communications.c.id == record.id)
                ).scalar()
                == Status.CANCELLED
            )
            for name in record.channels:
                if name not in queued and not cancelled:
                    add_job(
                        connection,
                        communication_id=record.id,
                        kind="send",
                        channel=name,
                        run_after=send_at,
                    )
            finish(connection, job.id)

    def _send(self, job: Job) -> None:
        assert job.channel is not None
        record = self._communication(job.communication_id)
        if record.status is Status.CANCELLED:  # e.g. the debt was paid meanwhile
            with self._engine.begin() as connection:
                finish(connection, job.id)
            return
        # Rule R22 again at the moment of sending: a backlog or a retry may have pushed
        # the send into the recipient's quiet hours.
        allowed_at = next_allowed(self._clock(), record.recipient.get("quiet_hours"))
        if allowed_at > self._clock():
            with self._engine.begin() as connection:
                connection.execute(
                    update(jobs)
                    .where(jobs.c.id == job.id)
                    .values(state="pending", run_after=allowed_at, lease_until=None)
                )
            return
        adapter = self._channels[job.channel]
        if not self._claim_delivery(record.id, job.channel):
            with self._engine.begin() as connection:
                finish(connection, job.id)
            return
        recorded = self._ledger.records(communication_id=record.id)
        message = self._message(record, job.channel, _signed_document(recorded, record.id))
        receipt = adapter.send(message)
        response = self._store.put(receipt.raw_response, media_type="application/json")
        body = self._store.put(message.payload, media_type=message.media_type)
        channel = Channel(job.channel)
        sandbox = {"sandbox": "true"} if receipt.sandbox else {}
        if not _has(recorded, EventType.RELAY_ACCEPTED, channel):
            self._ledger.append(
                EvidenceEvent(
                    type=EventType.RELAY_ACCEPTED,
                    channel=channel,
                    communication_id=record.id,
                    case_id=record.case_id,
                    occurred_at=receipt.accepted_at,
                    actor="ccm",
                    provider=receipt.provider,
                    provider_message_id=receipt.provider_message_id,
                    payload_sha256=response.sha256,
                    artifacts=(
                        ArtifactRef(
                            role="message", sha256=body.sha256, media_type=message.media_type
                        ),
                    ),
                    details=sandbox,
                )
            )
        signals = adapter.expected_signals(message, receipt)
        stored = [self._store.put(s.raw, media_type=s.media_type) for s in signals]
        with self._engine.begin() as connection:
            self._advance(
                connection,
                record.id,
                job.channel,
                "sent",
                receipt.provider,
                receipt.provider_message_id,
            )
            release_early_signals(
                connection,
                provider=receipt.provider,
                provider_message_id=receipt.provider_message_id,
                communication_id=record.id,
                channel=job.channel,
            )
            already = connection.execute(
                select(jobs.c.id).where(
                    jobs.c.communication_id == record.id,
                    jobs.c.kind == "signal",
                    jobs.c.channel == job.channel,
                )
            ).first()
            if already is None:
                for signal, artefact in zip(signals, stored, strict=True):
                    add_job(
                        connection,
                        communication_id=record.id,
                        kind="signal",
                        channel=job.channel,
                        run_after=signal.occurred_at,
                        payload={
                            "kind": signal.kind,
                            "sha256": artefact.sha256,
                            "media_type": signal.media_type,
                            "occurred_at": signal.occurred_at.isoformat(),
                            "provider": receipt.provider,
                            "provider_message_id": receipt.provider_message_id,
                            "sandbox": receipt.sandbox,
                            **signal.details,
                        },
                    )
            finish(connection, job.id)

    def _signal(self, job: Job) -> None:
        assert job.channel is not None
        record = self._communication(job.communication_id)
        signal = job.payload
        if signal.get("recording_sid") and not signal.get("recording_sha256"):
            signal = {**signal, **self._recording(job.channel, str(signal["recording_sid"]))}
        event = self._signal_event(record, job.channel, signal)
        if not any(
            r.body["provider_event_id"] == event.provider_event_id
            for r in self._ledger.records(communication_id=record.id)
        ):
            self._ledger.append(event)
        if event.type in {EventType.HANDOVER_FAILED, EventType.ATTEMPTS_EXHAUSTED}:
            with self._engine.begin() as connection:
                finish(connection, job.id)
            states = {d["channel"]: d["state"] for d in record.deliveries}
            final = signal["kind"] != "attempt_failed"  # a bounce; the last call attempt
            if final and states.get(job.channel) != "proven":
                self._set_delivery(record.id, job.channel, "failed")
                self._fail_if_nothing_left(job)
            return
        state = "proven" if assess(event).proof else "delivered"
        with self._engine.begin() as connection:
            self._advance(connection, record.id, job.channel, state)
            finish(connection, job.id)

    def _refused(self, job: Job, error: PermanentChannelError) -> None:
        """The provider refused for good: record why, fail the delivery, no retry."""
        assert job.channel is not None
        record = self._communication(job.communication_id)
        self._ledger.append(
            EvidenceEvent(
                type=EventType.RELAY_FAILED,
                channel=Channel(job.channel),
                communication_id=record.id,
                case_id=record.case_id,
                occurred_at=self._clock(),
                actor="ccm",
                reasons=(str(error),),
            )
        )
        with self._engine.begin() as connection:
            connection.execute(
                update(jobs)
                .where(jobs.c.id == job.id)
                .values(state="failed", lease_until=None, last_error=str(error)[:2000])
            )
        self._set_delivery(job.communication_id, job.channel, "failed")
        self._fail_if_nothing_left(job)

    # -- helpers -----------------------------------------------------------------------

    def _recording(self, channel: str, recording_id: str) -> dict[str, str]:
        """Fetch a call's recording from its provider and keep it (a retry fetches again
        and stores the same bytes once).

        Raises:
            ChannelError: the provider did not serve it; the signal job is retried.
        """
        adapter: Any = self._channels[channel]
        if not hasattr(adapter, "fetch_recording"):
            raise PermanentChannelError(f"the {channel} channel keeps no recordings")
        source: RecordingSource = adapter
        data, media_type = source.fetch_recording(recording_id)
        stored = self._store.put(data, media_type=media_type)
        return {"recording_sha256": stored.sha256, "recording_media_type": media_type}

    def _signal_event(
        self, record: CommunicationRecord, channel: str, signal: dict[str, Any]
    ) -> EvidenceEvent:
        kind, sha256, media_type = signal["kind"], signal["sha256"], signal["media_type"]
        details = {"sandbox": "true"} if signal.get("sandbox") else {}
        common: dict[str, Any] = {
            "communication_id": record.id,
            "case_id": record.case_id,
            "channel": Channel(channel),
            "occurred_at": datetime.fromisoformat(signal["occurred_at"]),
            "provider": signal["provider"],
            "provider_message_id": signal["provider_message_id"],
            "provider_event_id": f"{kind}:{sha256[:32]}",
        }
        if kind == "delivered":
            if channel == "email":
                details["signature"] = self._signature
            return EvidenceEvent(
                type=EventType.CONTENT_HANDED_OVER,
                actor=f"provider:{signal['provider']}",
                payload_sha256=sha256,
                details={**details, "provider_status": "delivered"},
                **common,
            )
        if kind == "bounce":
            return EvidenceEvent(
                type=EventType.HANDOVER_FAILED,
                actor=f"provider:{signal['provider']}",
                artifacts=(
                    ArtifactRef(
                        role="dsn" if media_type == "message/rfc822" else "provider_callback",
                        sha256=sha256,
                        media_type=media_type,
                    ),
                ),
                reasons=(str(signal.get("reason") or "returned as undeliverable"),),
                details={**details, "provider_status": "bounced"},
                **common,
            )
        if kind == "call_failed":  # an IVR call not answered, or ended before the notice
            return EvidenceEvent(
                type=EventType.HANDOVER_FAILED,
                actor=f"provider:{signal['provider']}",
                artifacts=(ArtifactRef(role="ivr_record", sha256=sha256, media_type=media_type),),
                reasons=(str(signal.get("reason") or "the call gave no notice"),),
                details={**details, "method": "ivr"},
                **common,
            )
        if kind in {"attempt_failed", "attempts_exhausted", "call_refused"}:  # agent calls
            event_type = {
                "attempt_failed": EventType.HANDOVER_FAILED,
                "attempts_exhausted": EventType.ATTEMPTS_EXHAUSTED,
                "call_refused": EventType.RECIPIENT_REJECTED,
            }[kind]
            return EvidenceEvent(
                type=event_type,
                actor=f"agent:{signal.get('agent_id', 'unknown')}",
                artifacts=(ArtifactRef(role="agent_record", sha256=sha256, media_type=media_type),),
                reasons=(str(signal.get("reason") or kind),),
                details={**details, "method": "agent_call", **_call_details(signal)},
                **common,
            )
        if kind == "call_confirmed":  # identity confirmed on the call, the notice given
            ivr = channel == "ivr"
            record_role = "ivr_record" if ivr else "agent_record"
            artifacts = [ArtifactRef(role=record_role, sha256=sha256, media_type=media_type)]
            if signal.get("recording_sha256"):
                artifacts.append(
                    ArtifactRef(
                        role="recording",
                        sha256=signal["recording_sha256"],
                        media_type=signal.get("recording_media_type", "application/octet-stream"),
                    )
                )
            return EvidenceEvent(
                type=EventType.RECIPIENT_ACCEPTED,
                actor="recipient" if ivr else f"agent:{signal.get('agent_id', 'unknown')}",
                artifacts=tuple(artifacts),
                reasons=(str(signal["reason"]),) if ivr and signal.get("reason") else (),
                details={**details, "method": "data_confirmation", **_call_details(signal)},
                **common,
            )
        if kind == "signed_receipt":  # handed over in person, the receipt signed (R18)
            return EvidenceEvent(
                type=EventType.RECIPIENT_ACCEPTED,
                actor="recipient",
                artifacts=(
                    ArtifactRef(role="agent_record", sha256=sha256, media_type=media_type),
                    ArtifactRef(
                        role="signed_receipt",
                        sha256=signal["receipt_sha256"],
                        media_type=signal["receipt_media_type"],
                    ),
                ),
                details={**details, "method": "in_person"},
                **common,
            )
        if kind == "dispute":  # "QUESTIONAR": the recipient contests the debt
            return EvidenceEvent(
                type=EventType.RECIPIENT_REJECTED,
                actor="recipient",
                artifacts=(
                    ArtifactRef(
                        role="ivr_record" if channel == "ivr" else "reply",
                        sha256=sha256,
                        media_type=media_type,
                    ),
                ),
                reasons=(f"dispute opened by {_method_of(signal)} ({signal.get('keyword')})",),
                details={
                    **details,
                    "method": _method_of(signal),
                    "keyword": str(signal.get("keyword")),
                },
                **common,
            )
        role, method, event_type = {
            "mdn": ("mdn", "mdn", EventType.CONTENT_ACCESSED),
            "read": ("provider_callback", "read_receipt", EventType.CONTENT_ACCESSED),
            "pixel": ("page_record", "pixel", EventType.CONTENT_ACCESSED),
            "reply": ("reply", "reply", EventType.RECIPIENT_ACCEPTED),
            "page_confirmation": (
                "page_record",
                "confirmation_page",
                EventType.RECIPIENT_ACCEPTED,
            ),
            "reply_other": ("reply", "reply_unrecognized", EventType.CONTENT_ACCESSED),
            "ar": ("ar_record", "ar", EventType.RECIPIENT_ACCEPTED),
        }[kind]
        extra = {}
        artifacts = [ArtifactRef(role=role, sha256=sha256, media_type=media_type)]
        if kind == "ar":
            if signal.get("tracking_code"):
                extra = {"tracking_code": str(signal["tracking_code"])}
            if signal.get("image_sha256"):  # the scanned AR card
                artifacts.append(
                    ArtifactRef(
                        role="ar_image",
                        sha256=signal["image_sha256"],
                        media_type=signal["image_media_type"],
                    )
                )
        if kind == "mdn":
            extra = {"disposition": str(signal.get("disposition", "displayed"))}
        if kind == "reply":
            extra = {"keyword": str(signal.get("keyword", "CIENTE"))}
        if kind == "page_confirmation":  # never what was typed: only which item was checked
            extra = {"identity_items": str(signal.get("identity_items", ""))}
        return EvidenceEvent(
            type=event_type,
            actor="provider:twilio" if kind == "read" else "recipient",
            artifacts=tuple(artifacts),
            details={**details, "method": method, **extra},
            **common,
        )

    @staticmethod
    def _submission_details(record: CommunicationRecord) -> dict[str, str]:
        details = {"template": record.template, "template_version": record.template_version}
        if record.recipient.get("legal_basis"):  # an opt-out overridden for a mandatory notice
            details["legal_basis"] = str(record.recipient["legal_basis"])[:200]
        return details

    def _communication(self, communication_id: str) -> CommunicationRecord:
        record = get_communication(self._engine, communication_id)
        if record is None:
            raise EvidenceError(f"unknown communication {communication_id}")
        return record

    def _composition(self, record: CommunicationRecord) -> tuple[Composer, Composition]:
        """The composition with exactly the template version the request was accepted with."""
        composer = self._catalog.pinned(record.template, record.template_version)
        composition = composer.prepare(
            record.template, record.data, locale=record.locale, document_id=record.document_id
        )
        return composer, composition

    def _message(
        self, record: CommunicationRecord, channel: str, signed_sha256: str
    ) -> OutgoingMessage:
        composer, composition = self._composition(record)
        pdf = self._store.get(signed_sha256)
        reference = None
        recipient = record.recipient
        key = f"{record.id}:{channel}"
        if channel == "email":
            rendering = composer.render(composition, "email")
            assert isinstance(rendering, EmailRendering)
            message = build_email(
                composition, rendering, attachment=(f"{composition.doc.id}.pdf", pdf)
            )
            del message["To"]  # the request's recipient, not the template data's payer
            message["To"] = str(recipient["email"])
            # One Message-ID per communication: read receipts and bounces name it.
            domain = str(message["Message-ID"]).rstrip(">").rpartition("@")[2]
            del message["Message-ID"]
            message["Message-ID"] = f"<{record.id}.email@{domain}>"
            # RFC 8098: ask the recipient's mail program for a read receipt (rule R33).
            message["Disposition-Notification-To"] = str(message["From"])
            signed = self._email_signer.sign_message(message) if self._email_signer else None
            payload, media_type, address = (
                signed or message.as_bytes(),
                "message/rfc822",
                str(recipient["email"]),
            )
        elif channel in {"sms", "whatsapp"}:
            text = composer.render(composition, channel)
            assert isinstance(text, TextRendering)
            payload, media_type, address = text.text.encode(), "text/plain", str(recipient["phone"])
            if text.variables:  # WhatsApp: the approved template's values go with the text
                message_json = {
                    "template": record.template,
                    "body": text.text,
                    "variables": dict(text.variables),
                }
                payload = json.dumps(message_json, ensure_ascii=False, sort_keys=True).encode()
                media_type = WHATSAPP_TEMPLATE_MEDIA_TYPE
        elif channel == "ivr":
            voice = composer.render(composition, "voice")
            assert isinstance(voice, VoiceRendering)
            try:  # the call compares the typed digits with the request's data: it must hold them
                expected_identity(record, voice.identity_items)
            except ValueError as error:
                raise PermanentChannelError(f"ivr: {error}") from error
            operator = record.data.get("operator") or {}
            call_script = {
                "template": voice.template,
                "language": voice.template.rpartition("/")[2],
                "steps": {step.id: step.text for step in voice.steps},
                "identity_items": list(voice.identity_items),
                "max_attempts": voice.max_attempts,
                "operator_phone": str(operator.get("phone") or ""),
            }
            payload = json.dumps(call_script, ensure_ascii=False, sort_keys=True).encode()
            media_type, address = IVR_SCRIPT_MEDIA_TYPE, str(recipient["phone"])
        elif channel == "agent_call":
            # The protocol number comes first: the script quotes it to the person (RN 623).
            if self._protocols is None:
                raise PermanentChannelError("agent calls need protocol numbers (not configured)")
            operator = record.data.get("operator") or {}
            reference = self._protocols.issue(
                ans_registration=str(operator.get("ans_registration", "")),
                day=self._clock().astimezone(BRASILIA).date(),
            )
            script = composer.render(composition.with_protocol(reference), "agent_script")
            assert isinstance(script, AgentScriptRendering)
            payload, media_type, address = (
                script.html.encode(),
                "text/html",
                str(recipient["phone"]),
            )
        else:
            postal = recipient.get("address")
            addressee = {"name": recipient.get("name"), **postal} if postal else None
            address_line = json.dumps(addressee, ensure_ascii=False, sort_keys=True)
            payload, media_type, address = pdf, "application/pdf", address_line
        return OutgoingMessage(
            channel=channel,
            communication_id=record.id,
            idempotency_key=key,
            payload=payload,
            media_type=media_type,
            address=address,
            reference=reference,
        )

    def _claim_delivery(self, communication_id: str, channel: str) -> bool:
        """Claim the delivery before the provider is called; ``False`` when the
        communication was cancelled (decided under the communication's row lock, the
        same one a cancellation takes, so a send is either cancelled or goes out)."""
        now = self._clock()
        with self._engine.begin() as connection:
            status = connection.execute(
                select(communications.c.status)
                .where(communications.c.id == communication_id)
                .with_for_update()
            ).scalar()
            if status == Status.CANCELLED:
                return False
            connection.execute(
                self._insert(deliveries)
                .values(
                    communication_id=communication_id,
                    channel=channel,
                    state="claimed",
                    attempts=1,
                    updated_at=now,
                )
                .on_conflict_do_update(
                    index_elements=["communication_id", "channel"],
                    set_={"attempts": deliveries.c.attempts + 1, "updated_at": now},
                )
            )
        return True

    def _set_delivery(self, communication_id: str, channel: str, state: str) -> None:
        with self._engine.begin() as connection:
            connection.execute(
                update(deliveries)
                .where(
                    deliveries.c.communication_id == communication_id,
                    deliveries.c.channel == channel,
                )
                .values(state=state, updated_at=self._clock())
            )

    def _advance(
        self,
        connection: Connection,
        communication_id: str,
        channel: str,
        state: str,
        provider: str | None = None,
        provider_message_id: str | None = None,
    ) -> None:
        """Move the delivery forward (never back) and derive the communication's status."""
        row = connection.execute(
            select(deliveries.c.state).where(
                deliveries.c.communication_id == communication_id, deliveries.c.channel == channel
            )
        ).first()
        values: dict[str, Any] = {"updated_at": self._clock()}
        if row is None or _RANK[state] > _RANK.get(row.state, -1):
            values["state"] = state
        if provider:
            values.update(provider=provider, provider_message_id=provider_message_id)
        connection.execute(
            update(deliveries)
            .where(
                deliveries.c.communication_id == communication_id, deliveries.c.channel == channel
            )
            .values(**values)
        )
        ranks = [
            _RANK[r.state]
            for r in connection.execute(
                select(deliveries.c.state).where(deliveries.c.communication_id == communication_id)
            )
        ]
        status = _STATUS[max(max(ranks, default=0), 0)]
        connection.execute(
            update(communications)
            .where(communications.c.id == communication_id)
            .values(status=status, updated_at=self._clock())
        )

    def _fail_if_nothing_left(self, job: Job) -> None:
        """Failed only when every channel of the communication has failed."""
        record = self._communication(job.communication_id)
        states = {d["channel"]: d["state"] for d in record.deliveries}
        if all(states.get(channel) == "failed" for channel in record.channels):
            with self._engine.begin() as connection:
                connection.execute(
                    update(communications)
                    .where(communications.c.id == record.id)
                    .values(status=Status.FAILED, updated_at=self._clock())
                )


def _call_details(signal: Mapping[str, Any]) -> dict[str, str]:
    """What an agent's report adds to its event: attempt, protocol, identity items."""
    keys = ("attempt", "protocol", "identity_items")
    return {key: str(signal[key]) for key in keys if signal.get(key) is not None}


def _method_of(signal: Mapping[str, Any]) -> str:
    """How a recipient's answer came: a ``reply`` by message, or the ``confirmation_page``."""
    return str(signal.get("method", "reply"))


def _signed_document(recorded: Sequence[EvidenceRecord], communication_id: str) -> str:
    """SHA-256 of the signed PDF among a communication's records."""
    for r in recorded:
        if r.body["type"] == EventType.DOCUMENT_SIGNED:
            return str(r.body["artifacts"][0]["sha256"])
    raise EvidenceError(f"no signed document recorded for {communication_id}")


def _has(
    recorded: Sequence[EvidenceRecord], kind: EventType, channel: Channel | None = None
) -> bool:
    """Whether the records hold an event of ``kind`` (on ``channel``)."""
    return any(
        r.body["type"] == kind and (channel is None or r.body["channel"] == channel)
        for r in recorded
    )
