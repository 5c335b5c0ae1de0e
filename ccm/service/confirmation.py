"""The notice's confirmation page: the recipient proves who they are and says whether they
are aware of the notice ("Li e estou ciente") or dispute it ("Quero questionar o débito").

Every message links to ``/d/<document id>``. The page shows nothing personal until the
recipient types the first five digits of their CPF (what they type is compared and
forgotten, never stored); five wrong answers lock the page. An awareness answer on the page
of an e-mailed notice is a read confirmation, the e-mail's legal proof (rules R14, R33);
the record kept is the answer, when, and the browser's address and user agent.
"""

import json
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Engine, delete, select

from ccm.identifiers.cpf import normalize_cpf
from ccm.persistence.db import upsert_insert
from ccm.persistence.tables import communications, jobs, page_attempts
from ccm.ports import ArtifactStore
from ccm.service.communications import CommunicationRecord, get_communication
from ccm.service.inbound import InboundSignal, queue_signal

__all__ = [
    "IDENTITY_DIGITS",
    "MAX_FAILURES",
    "Check",
    "PageAnswer",
    "check_identity",
    "communication_for_document",
    "record_answer",
    "record_open",
]

IDENTITY_DIGITS = 5
MAX_FAILURES = 5


class Check(StrEnum):
    OK = "ok"
    WRONG = "wrong"
    LOCKED = "locked"


class PageAnswer(StrEnum):
    AWARE = "ciente"
    DISPUTE = "questionar"


def communication_for_document(engine: Engine, document_id: str) -> CommunicationRecord | None:
    """The latest communication of the document ``document_id``, or None."""
    with engine.connect() as connection:
        found = connection.execute(
            select(communications.c.id)
            .where(communications.c.document_id == document_id)
            .order_by(communications.c.created_at.desc())
        ).scalar()
    return get_communication(engine, found) if found else None


def check_identity(
    engine: Engine, record: CommunicationRecord, digits: str, *, now: datetime
) -> tuple[Check, int]:
    """Compare ``digits`` with the first CPF digits of the recipient; return the outcome
    and how many tries remain."""
    document_id = str(record.document_id)
    with engine.connect() as connection:
        failures = (
            connection.execute(
                select(page_attempts.c.failures).where(page_attempts.c.document_id == document_id)
            ).scalar()
            or 0
        )
    if failures >= MAX_FAILURES:
        return Check.LOCKED, 0
    expected = normalize_cpf(str(record.recipient.get("cpf", "")))[:IDENTITY_DIGITS]
    if digits.strip() == expected and len(expected) == IDENTITY_DIGITS:
        with engine.begin() as connection:
            connection.execute(
                delete(page_attempts).where(page_attempts.c.document_id == document_id)
            )
        return Check.OK, MAX_FAILURES
    with engine.begin() as connection:
        connection.execute(
            upsert_insert(engine)(page_attempts)
            .values(document_id=document_id, failures=1, updated_at=now)
            .on_conflict_do_update(
                index_elements=["document_id"],
                set_={"failures": page_attempts.c.failures + 1, "updated_at": now},
            )
        )
    remaining = MAX_FAILURES - failures - 1
    return (Check.WRONG if remaining > 0 else Check.LOCKED), remaining


def record_answer(
    engine: Engine,
    store: ArtifactStore,
    record: CommunicationRecord,
    answer: PageAnswer,
    *,
    client: dict[str, Any],
    now: datetime,
) -> str:
    """Queue the answer as evidence on the communication's e-mail channel (else its first);
    return that channel."""
    channel = "email" if "email" in record.channels else record.channels[0]
    evidence = {
        "page": f"/d/{record.document_id}",
        "answer": str(answer),
        "identity_checked": f"cpf_prefix_{IDENTITY_DIGITS}",
        "at": now.isoformat(),
        **client,
    }
    kind = "page_confirmation" if answer is PageAnswer.AWARE else "dispute"
    details = {"method": "confirmation_page", "identity_items": f"cpf_prefix_{IDENTITY_DIGITS}"}
    if answer is PageAnswer.DISPUTE:
        details["keyword"] = "QUESTIONAR"
    signal = InboundSignal(
        channel=channel,
        provider="ccm",
        provider_message_id=str(record.document_id),
        kind=kind,
        raw=json.dumps(evidence, ensure_ascii=False, sort_keys=True).encode(),
        media_type="application/json",
        details=details,
    )
    queue_signal(engine, store, signal, communication_id=record.id, channel=channel, now=now)
    return channel


def record_open(
    engine: Engine,
    store: ArtifactStore,
    record: CommunicationRecord,
    *,
    client: dict[str, Any],
    now: datetime,
) -> bool:
    """Record the first load of the e-mail's open pixel; later loads add nothing.
    Return whether this one was recorded."""
    with engine.connect() as connection:
        queued = connection.execute(
            select(jobs.c.payload).where(
                jobs.c.communication_id == record.id, jobs.c.kind == "signal"
            )
        ).scalars()
        if any(json.loads(payload).get("kind") == "pixel" for payload in queued):
            return False
    evidence = {"pixel": f"/p/{record.document_id}.gif", "at": now.isoformat(), **client}
    signal = InboundSignal(
        channel="email",
        provider="ccm",
        provider_message_id=str(record.document_id),
        kind="pixel",
        raw=json.dumps(evidence, ensure_ascii=False, sort_keys=True).encode(),
        media_type="application/json",
        details={},
    )
    queue_signal(engine, store, signal, communication_id=record.id, channel="email", now=now)
    return True
