"""Which events prove a notification under RN 593 art. 8, and why (rules R14-R18).

The assessment is made when an event is recorded and sealed into the event itself, so
that a pack read years later says what ccm concluded and under which rule. The rules:

- e-mail (R14, R33): the content signed with an ICP-Brasil certificate and handed over
  to the mailbox, **or** a read confirmation (an MDN "displayed", or "Li e estou
  ciente" on the confirmation page). A tracking pixel is weak evidence, never proof.
- SMS / WhatsApp (R15): only a reply from the registered number confirming awareness.
- Recorded call, agent or IVR (R16): data confirmed by the person **and** a recording.
- Registered letter (R17): the AR returned as delivered, whoever signed it.
- Operator's agent in person (R18): a receipt signed by the person notified.
"""

from dataclasses import dataclass

from ccm.evidence.events import Channel, EventType, EvidenceEvent

__all__ = ["LegalProof", "assess"]


@dataclass(frozen=True, slots=True, kw_only=True)
class LegalProof:
    """Whether one event is a legal proof of notification, under which rule, and why."""

    proof: bool
    rule: str | None
    code: str
    """Stable key of the reasoning, used by the certificate's pt-BR wording."""
    why: str

    def as_json(self) -> dict[str, object]:
        return {"proof": self.proof, "rule": self.rule, "code": self.code, "why": self.why}


def _artifact_roles(event: EvidenceEvent) -> set[str]:
    return {a.role for a in event.artifacts}


def _no(code: str, why: str, rule: str | None = None) -> LegalProof:
    return LegalProof(proof=False, rule=rule, code=code, why=why)


def _email(event: EvidenceEvent) -> LegalProof:
    method = event.details.get("method")
    if event.type is EventType.CONTENT_HANDED_OVER:
        if event.details.get("signature") == "icp_brasil":
            return LegalProof(
                proof=True,
                rule="R14",
                code="email_signed_delivered",
                why="content signed with an ICP-Brasil certificate, delivered to the mailbox",
            )
        return _no(
            "email_delivered_unsigned",
            "delivery to the mailbox proves notice only for ICP-Brasil-signed content "
            f"(signature here: {event.details.get('signature', 'none')})",
            "R14",
        )
    if event.type is EventType.CONTENT_ACCESSED:
        if method == "mdn" and event.details.get("disposition") == "displayed":
            return LegalProof(
                proof=True,
                rule="R14",
                code="email_read_confirmation",
                why='read confirmation: MDN with disposition "displayed" (RFC 8098; rule R33)',
            )
        return _no(
            "email_weak_access",
            f"access tracked by {method or 'an unknown method'} is weak evidence, not a "
            "read confirmation",
            "R14",
        )
    if event.type is EventType.RECIPIENT_ACCEPTED and method == "confirmation_page":
        return LegalProof(
            proof=True,
            rule="R14",
            code="email_page_confirmation",
            why='read confirmation: the recipient confirmed identity and chose "Li e estou ciente"',
        )
    return _no("not_a_proof_event", f"{event.type} is not a notification proof for e-mail")


def _messaging(event: EvidenceEvent) -> LegalProof:
    if event.type is EventType.RECIPIENT_ACCEPTED and event.details.get("method") == "reply":
        return LegalProof(
            proof=True,
            rule="R15",
            code="message_reply",
            why="the recipient replied from the registered number confirming awareness",
        )
    return _no(
        "message_without_reply",
        f"{event.type} on {event.channel} proves nothing until the recipient replies",
        "R15",
    )


def _call(event: EvidenceEvent) -> LegalProof:
    if event.type is EventType.RECIPIENT_ACCEPTED and event.details.get("method") == (
        "data_confirmation"
    ):
        if "recording" in _artifact_roles(event):
            return LegalProof(
                proof=True,
                rule="R16",
                code="call_data_confirmed",
                why="the person confirmed personal data on a recorded call",
            )
        return _no(
            "call_without_recording",
            "data was confirmed but the call recording is missing",
            "R16",
        )
    return _no("call_without_confirmation", f"{event.type} on a call is not a proof", "R16")


def _letter(event: EvidenceEvent) -> LegalProof:
    if event.type is EventType.RECIPIENT_ACCEPTED and event.details.get("method") == "ar":
        return LegalProof(
            proof=True,
            rule="R17",
            code="letter_ar_delivered",
            why="the AR came back as delivered to the registered address (date of the AR)",
        )
    return _no("letter_without_ar", f"{event.type} on a letter is not a proof", "R17")


def _in_person(event: EvidenceEvent) -> LegalProof:
    if event.type is EventType.RECIPIENT_ACCEPTED and "signed_receipt" in _artifact_roles(event):
        return LegalProof(
            proof=True,
            rule="R18",
            code="in_person_signed_receipt",
            why="the person notified signed the agent's receipt",
        )
    return _no("in_person_without_receipt", "no receipt signed by the person", "R18")


_BY_CHANNEL = {
    Channel.EMAIL: _email,
    Channel.SMS: _messaging,
    Channel.WHATSAPP: _messaging,
    Channel.IVR: _call,
    Channel.AGENT_CALL: _call,
    Channel.REGISTERED_MAIL: _letter,
    Channel.IN_PERSON: _in_person,
}


def assess(event: EvidenceEvent) -> LegalProof:
    """Decide whether ``event`` is a legal proof of notification for its channel."""
    judge = _BY_CHANNEL.get(event.channel)
    if judge is None:
        return _no("no_channel", "events outside a channel never prove notification")
    return judge(event)
