"""The evidence vocabulary: ETSI names, what each channel accepts as proof, what events refuse."""
# ruff: noqa: E501 - one row per case reads better than wrapped tuples

from datetime import datetime

import pytest

from ccm.evidence import ArtifactRef, Channel, EventType, assess
from tests.evidence.conftest import event

RECORDING = ArtifactRef(role="recording", sha256="a" * 64, media_type="audio/mpeg")
RECEIPT = ArtifactRef(role="signed_receipt", sha256="b" * 64, media_type="image/png")


def test_every_event_type_names_an_etsi_or_ccm_uri() -> None:
    for kind in EventType:
        assert kind.uri.startswith(("http://uri.etsi.org/19522/Event/", "urn:ccm:evidence:"))
    assert EventType.CONTENT_HANDED_OVER.uri.endswith("/ContentHandover")
    assert EventType.SUBMISSION_REJECTED.uri.endswith("/SubmissionRejection")


@pytest.mark.parametrize(
    ("channel", "kind", "details", "artifacts", "rule"),
    [
        (Channel.EMAIL, EventType.CONTENT_ACCESSED, {"method": "mdn", "disposition": "displayed"}, (), "R14"),
        (Channel.EMAIL, EventType.RECIPIENT_ACCEPTED, {"method": "confirmation_page"}, (), "R14"),
        (Channel.EMAIL, EventType.CONTENT_HANDED_OVER, {"signature": "icp_brasil"}, (), "R14"),
        (Channel.SMS, EventType.RECIPIENT_ACCEPTED, {"method": "reply"}, (), "R15"),
        (Channel.WHATSAPP, EventType.RECIPIENT_ACCEPTED, {"method": "reply"}, (), "R15"),
        (Channel.IVR, EventType.RECIPIENT_ACCEPTED, {"method": "data_confirmation"}, (RECORDING,), "R16"),
        (Channel.AGENT_CALL, EventType.RECIPIENT_ACCEPTED, {"method": "data_confirmation"}, (RECORDING,), "R16"),
        (Channel.REGISTERED_MAIL, EventType.RECIPIENT_ACCEPTED, {"method": "ar"}, (), "R17"),
        (Channel.IN_PERSON, EventType.RECIPIENT_ACCEPTED, {}, (RECEIPT,), "R18"),
    ],
)  # fmt: skip
def test_each_channel_proof(
    channel: Channel,
    kind: EventType,
    details: dict[str, str],
    artifacts: tuple[ArtifactRef, ...],
    rule: str,
) -> None:
    verdict = assess(event(kind=kind, channel=channel, details=details, artifacts=artifacts))
    assert verdict.proof and verdict.rule == rule


@pytest.mark.parametrize(
    ("channel", "kind", "details", "artifacts", "code"),
    [
        (Channel.EMAIL, EventType.CONTENT_HANDED_OVER, {"signature": "development"}, (), "email_delivered_unsigned"),
        (Channel.EMAIL, EventType.CONTENT_ACCESSED, {"method": "tracking_pixel"}, (), "email_weak_access"),
        (Channel.EMAIL, EventType.CONTENT_ACCESSED, {"method": "mdn", "disposition": "deleted"}, (), "email_weak_access"),
        (Channel.SMS, EventType.CONTENT_HANDED_OVER, {}, (), "message_without_reply"),
        (Channel.WHATSAPP, EventType.CONTENT_ACCESSED, {"provider_status": "read"}, (), "message_without_reply"),
        (Channel.IVR, EventType.RECIPIENT_ACCEPTED, {"method": "data_confirmation"}, (), "call_without_recording"),
        (Channel.REGISTERED_MAIL, EventType.CONTENT_HANDED_OVER, {}, (), "letter_without_ar"),
        (Channel.IN_PERSON, EventType.RECIPIENT_ACCEPTED, {}, (), "in_person_without_receipt"),
        (Channel.SYSTEM, EventType.RECIPIENT_ACCEPTED, {"method": "reply"}, (), "no_channel"),
    ],
)  # fmt: skip
def test_signals_that_are_not_proof(
    channel: Channel,
    kind: EventType,
    details: dict[str, str],
    artifacts: tuple[ArtifactRef, ...],
    code: str,
) -> None:
    verdict = assess(event(kind=kind, channel=channel, details=details, artifacts=artifacts))
    assert not verdict.proof and verdict.code == code and verdict.why


def test_health_data_and_free_form_details_are_refused() -> None:
    with pytest.raises(ValueError, match="details.diagnosis: not an allowed evidence detail"):
        event(details={"diagnosis": "J18.9"})


def test_negative_events_need_reasons_and_times_need_a_zone() -> None:
    with pytest.raises(ValueError, match="reasons: required on negative event handover_failed"):
        event(kind=EventType.HANDOVER_FAILED)
    assert event(kind=EventType.HANDOVER_FAILED, reasons=("mailbox full",)).reasons
    with pytest.raises(ValueError, match="occurred_at: must be timezone-aware"):
        event().__class__(
            communication_id="c",
            type=EventType.RELAY_ACCEPTED,
            channel=Channel.EMAIL,
            occurred_at=datetime(2026, 1, 1),
            actor="ccm",
        )
    with pytest.raises(ValueError, match="sha256: must be 64 lowercase hex digits"):
        ArtifactRef(role="x", sha256="ABC", media_type="text/plain")
