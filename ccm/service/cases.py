"""RN 593 delinquency cases as stored: import, the clock of a case, disputes, decisions.

A case keeps the imported :class:`~ccm.rn593.casefile.CaseFile` and the ladder profile it
started with. What happened since is never copied into it: the notices and their proofs
are read from the case's communications and the evidence ledger each time the clock is
evaluated, and disputes opened on any channel (the confirmation page, an SMS or WhatsApp
"QUESTIONAR", IVR option 2, an agent's report) are picked up from the ledger into
``case_disputes`` where the operator records its answer (R9).

Events about the case itself (imported, ladder cancelled, attempts exhausted, decision
recorded) go to the ledger with the case id as their subject, so the case's evidence pack
holds them next to its communications' events.
"""

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from ccm.errors import CCMError, DataError, DataValidationError, StateConflict
from ccm.evidence.events import ArtifactRef, Channel, EventType, EvidenceEvent
from ccm.evidence.ledger import Ledger
from ccm.evidence.records import EvidenceRecord
from ccm.identifiers.protocol import ProtocolIssuer
from ccm.persistence.db import upsert_insert
from ccm.persistence.tables import (
    case_attempts,
    case_decisions,
    case_disputes,
    cases,
    communications,
)
from ccm.ports import ArtifactStore
from ccm.rn593.case import Case, Dispute, Notice, NoticeChannel, Proof, ProofKind
from ccm.rn593.casefile import CaseFile
from ccm.rn593.clock import Evaluation, evaluate, first_eligible
from ccm.rn593.ladder import LadderProfile, profile_json
from ccm.service.communications import utc

__all__ = [
    "ACTIVE_STATES",
    "CaseAttempt",
    "CaseDecision",
    "CaseDispute",
    "CaseNotEligible",
    "CaseState",
    "ImportResult",
    "StoredCase",
    "answer_dispute",
    "attempt_outcomes",
    "certificate_section",
    "case_event",
    "case_notices",
    "clock_case",
    "decide",
    "eligible_from",
    "evaluate_case",
    "get_case",
    "import_cases",
    "list_cases",
    "local_date",
    "sync_disputes",
]

BRASILIA = ZoneInfo("America/Sao_Paulo")
CASE_MEDIA_TYPE = "application/vnd.ccm.rn593-case+json"


class CaseState(StrEnum):
    OPEN = "open"
    """Imported; nothing sent yet (not due, not covered, or waiting on a block)."""
    NOTIFYING = "notifying"
    PROVED = "proved"
    EXHAUSTED = "exhausted"
    PAID = "paid"
    SUSPENDED = "suspended"
    TERMINATED = "terminated"


ACTIVE_STATES = frozenset(
    {CaseState.OPEN, CaseState.NOTIFYING, CaseState.PROVED, CaseState.EXHAUSTED}
)
"""States in which the case is watched (a payment still closes it)."""

_PROOF_KINDS = {
    "email_signed_delivered": ProofKind.SIGNATURE,
    "email_read_confirmation": ProofKind.READ_CONFIRMATION,
    "email_page_confirmation": ProofKind.READ_CONFIRMATION,
    "message_reply": ProofKind.REPLY,
    "call_data_confirmed": ProofKind.DATA_CONFIRMATION,
    "letter_ar_delivered": ProofKind.AR_DELIVERED,
    "in_person_signed_receipt": ProofKind.SIGNED_RECEIPT,
}
"""The ledger's proof verdicts (``ccm.evidence.proof``) as the clock's proof kinds."""


class CaseNotEligible(CCMError):
    """A suspension or termination was asked for a case the clock does not allow."""

    def __init__(self, evaluation: Evaluation, reason: str | None = None) -> None:
        blocks = ", ".join(str(b) for b in evaluation.blocks)
        super().__init__(
            f"the case is not eligible at {evaluation.at.isoformat()}: {reason or blocks}"
        )
        self.evaluation = evaluation


@dataclass(frozen=True, slots=True, kw_only=True)
class CaseAttempt:
    round: int
    """The ladder's round (0, then one more each time it restarts on new contact data)."""
    step: int
    slot: int
    channel: str
    state: str
    """``launched``, ``skipped`` or ``cancelled``."""
    communication_id: str | None
    note: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class CaseDispute:
    id: int
    opened_on: date
    method: str
    evidence_id: str | None
    answered_on: date | None


@dataclass(frozen=True, slots=True, kw_only=True)
class CaseDecision:
    id: str
    kind: str
    decided_on: date
    decided_by: str
    evidence_ids: tuple[str, ...]
    created_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredCase:
    id: str
    contract_id: str
    state: CaseState
    protocol: str | None
    file: CaseFile
    profile: LadderProfile
    imported_by: str
    round: int
    """The ladder's current round; ``started_at`` is when it started."""
    started_at: datetime | None
    proved_at: datetime | None
    closed_at: datetime | None
    created_at: datetime
    updated_at: datetime
    attempts: tuple[CaseAttempt, ...] = ()
    disputes: tuple[CaseDispute, ...] = ()
    decisions: tuple[CaseDecision, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class ImportResult:
    created: tuple[str, ...]
    updated: tuple[str, ...]
    restarted: dict[str, tuple[str, ...]]
    """Cases whose attempts were exhausted and whose ladder restarts: the new contacts."""


def _digits(cpf: str) -> str:
    return "".join(c for c in cpf if c.isdigit())


def local_date(moment: datetime | str) -> date:
    """The date in Brasília of an instant (the clock counts Brazilian calendar days)."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment.replace("Z", "+00:00"))
    return utc(moment).astimezone(BRASILIA).date()


def case_event(
    ledger: Ledger,
    case_id: str,
    event_type: EventType,
    *,
    occurred_at: datetime,
    actor: str,
    reasons: Sequence[str] = (),
    details: dict[str, str] | None = None,
    artifacts: Sequence[ArtifactRef] = (),
) -> EvidenceRecord:
    """Record an event about the case itself (its subject is the case id)."""
    return ledger.append(
        EvidenceEvent(
            type=event_type,
            channel=Channel.SYSTEM,
            communication_id=case_id,
            case_id=case_id,
            occurred_at=occurred_at,
            actor=actor,
            reasons=tuple(reasons),
            details=details or {},
            artifacts=tuple(artifacts),
        )
    )


def import_cases(
    engine: Engine,
    ledger: Ledger,
    store: ArtifactStore,
    files: Sequence[CaseFile],
    *,
    profile: LadderProfile,
    imported_by: str,
    now: datetime,
    protocols: ProtocolIssuer | None = None,
) -> ImportResult:
    """Store each case: a contract with an active case has it updated (new payments,
    hospitalizations, agreements, contacts), any other gets a new case with a protocol.
    A case whose attempts were exhausted restarts its ladder (a new round, from the first
    step) when the update brings contact data it did not have.

    All rows are written in one transaction; the import events follow.

    Raises:
        DataValidationError: the same contract twice in ``files``.
    """
    seen: dict[str, int] = {}
    for index, item in enumerate(files):
        contract = item.case.contract.id
        if contract in seen:
            raise DataValidationError(
                [
                    DataError(
                        path=f"cases[{index}].case.contract.id",
                        message=f"contract {contract} twice in one import "
                        f"(also case {seen[contract]})",
                    )
                ]
            )
        seen[contract] = index
    stored_profile = profile_json(profile)
    ans = str(profile.operator.get("ans_registration", ""))
    with engine.connect() as connection:
        active_contracts = {
            row.open_contract
            for row in connection.execute(
                select(cases.c.open_contract).where(cases.c.open_contract.in_(list(seen)))
            )
        }
    # Protocols first: issuing one writes its own sequence row (another transaction).
    protocol_of = {
        contract: protocols.issue(ans_registration=ans, day=local_date(now)) if protocols else None
        for contract in seen
        if contract not in active_contracts
    }
    try:
        created, updated, restarted = _store(
            engine, files, protocol_of, protocols, ans, stored_profile, imported_by, now
        )
    except IntegrityError:  # the same contract imported at the same moment elsewhere
        raise StateConflict(
            "another import of the same contracts is in progress; send the file again"
        ) from None
    for case_id in (*created, *updated):
        stored = get_case(engine, case_id)
        assert stored is not None
        artefact = store.put(
            stored.file.model_dump_json(by_alias=True).encode(), media_type=CASE_MEDIA_TYPE
        )
        restart = (
            [
                f"new contact data ({', '.join(restarted[case_id])}): the ladder restarts "
                f"from its first step (round {stored.round + 1})"
            ]
            if case_id in restarted
            else []
        )
        case_event(
            ledger,
            case_id,
            EventType.SUBMISSION_ACCEPTED,
            occurred_at=now,
            actor=f"api_key:{imported_by}",
            reasons=restart,
            details={
                "method": "case_import" if case_id in created else "case_update",
                "protocol": stored.protocol or "",
            },
            artifacts=(
                ArtifactRef(
                    role="case_file", sha256=artefact.sha256, media_type="application/json"
                ),
            ),
        )
    return ImportResult(created=tuple(created), updated=tuple(updated), restarted=restarted)


def _store(
    engine: Engine,
    files: Sequence[CaseFile],
    protocol_of: dict[str, str | None],
    protocols: ProtocolIssuer | None,
    ans: str,
    stored_profile: str,
    imported_by: str,
    now: datetime,
) -> tuple[list[str], list[str], dict[str, tuple[str, ...]]]:
    """Write the import's rows in one transaction; return the created and updated ids,
    and the new contacts of each case whose ladder restarts."""
    created: list[str] = []
    updated: list[str] = []
    restarted: dict[str, tuple[str, ...]] = {}
    with engine.begin() as connection:
        for item in files:
            content = item.model_dump_json(by_alias=True)
            active = connection.execute(
                select(cases.c.id, cases.c.state, cases.c.round, cases.c.content)
                .where(cases.c.open_contract == item.case.contract.id)
                .with_for_update()
            ).first()
            if active is not None:
                values: dict[str, Any] = {"content": content, "updated_at": now}
                fresh = _new_contacts(CaseFile.model_validate_json(active.content), item)
                if active.state == CaseState.EXHAUSTED and fresh:
                    values |= {
                        "round": active.round + 1,
                        "state": CaseState.OPEN,
                        "started_at": None,
                    }
                    restarted[active.id] = fresh
                connection.execute(update(cases).where(cases.c.id == active.id).values(**values))
                updated.append(active.id)
                continue
            case_id = f"case_{uuid.uuid4().hex[:20]}"
            protocol = protocol_of.get(item.case.contract.id)
            if protocol is None and protocols is not None:  # became inactive meanwhile
                protocol = protocols.issue(ans_registration=ans, day=local_date(now))
            connection.execute(
                cases.insert().values(
                    id=case_id,
                    contract_id=item.case.contract.id,
                    open_contract=item.case.contract.id,
                    content=content,
                    profile=stored_profile,
                    state=CaseState.OPEN,
                    protocol=protocol,
                    imported_by=imported_by,
                    created_at=now,
                    updated_at=now,
                )
            )
            created.append(case_id)
    return created, updated, restarted


def _new_contacts(old: CaseFile, new: CaseFile) -> tuple[str, ...]:
    """The contact data ``new`` has for the ladder that ``old`` had not: a usable e-mail,
    phone or address of another value, or a birth date (for the IVR's identity check)."""
    fresh = []
    for kind in ("email", "phone", "address"):
        before, after = getattr(old.contacts, kind), getattr(new.contacts, kind)
        if after is not None and after.usable:
            if before is None or not before.usable or before.value != after.value:
                fresh.append(kind)
    if new.payer_birth_date and not old.payer_birth_date:
        fresh.append("birth_date")
    return tuple(fresh)


def _stored(connection: Connection, row: Any) -> StoredCase:
    attempts = connection.execute(
        select(case_attempts)
        .where(case_attempts.c.case_id == row.id)
        .order_by(
            case_attempts.c.round, case_attempts.c.step, case_attempts.c.slot, case_attempts.c.id
        )
    ).all()
    disputes = connection.execute(
        select(case_disputes).where(case_disputes.c.case_id == row.id).order_by(case_disputes.c.id)
    ).all()
    decisions = connection.execute(
        select(case_decisions)
        .where(case_decisions.c.case_id == row.id)
        .order_by(case_decisions.c.created_at)
    ).all()

    def moment(value: datetime | None) -> datetime | None:
        return utc(value) if value else None

    return StoredCase(
        id=row.id,
        contract_id=row.contract_id,
        state=CaseState(row.state),
        protocol=row.protocol,
        file=CaseFile.model_validate_json(row.content),
        profile=LadderProfile.model_validate_json(row.profile),
        imported_by=row.imported_by,
        round=row.round,
        started_at=moment(row.started_at),
        proved_at=moment(row.proved_at),
        closed_at=moment(row.closed_at),
        created_at=utc(row.created_at),
        updated_at=utc(row.updated_at),
        attempts=tuple(
            CaseAttempt(
                round=a.round,
                step=a.step,
                slot=a.slot,
                channel=a.channel,
                state=a.state,
                communication_id=a.communication_id,
                note=a.note,
                created_at=utc(a.created_at),
            )
            for a in attempts
        ),
        disputes=tuple(
            CaseDispute(
                id=d.id,
                opened_on=d.opened_on,
                method=d.method,
                evidence_id=d.evidence_id,
                answered_on=d.answered_on,
            )
            for d in disputes
        ),
        decisions=tuple(
            CaseDecision(
                id=d.id,
                kind=d.kind,
                decided_on=d.decided_on,
                decided_by=d.decided_by,
                evidence_ids=tuple(json.loads(d.evidence_ids)),
                created_at=utc(d.created_at),
            )
            for d in decisions
        ),
    )


def get_case(engine: Engine, case_id: str) -> StoredCase | None:
    """The case with its attempts, disputes and decisions, or ``None``."""
    with engine.connect() as connection:
        row = connection.execute(select(cases).where(cases.c.id == case_id)).first()
        return _stored(connection, row) if row is not None else None


def list_cases(engine: Engine, *, states: Sequence[str] | None = None) -> list[StoredCase]:
    """Cases (oldest first), optionally in ``states`` only."""
    query = select(cases).order_by(cases.c.created_at, cases.c.id)
    if states is not None:
        query = query.where(cases.c.state.in_(list(states)))
    with engine.connect() as connection:
        return [_stored(connection, row) for row in connection.execute(query).all()]


def case_notices(engine: Engine, ledger: Ledger, stored: StoredCase) -> tuple[Notice, ...]:
    """The notices of every communication sent for the case, each with its earliest legal
    proof (as the ledger judged it) and that proof's evidence id."""
    case_id, payer = stored.id, _digits(stored.file.case.payer.cpf)
    with engine.connect() as connection:
        ids = [  # R12: only what was addressed to the payer counts, whoever sent it
            r.id
            for r in connection.execute(
                select(communications.c.id, communications.c.recipient)
                .where(communications.c.case_id == case_id)
                .order_by(communications.c.created_at)
            )
            if _digits(str(json.loads(r.recipient).get("cpf", ""))) == payer
        ]
    notices = []
    for communication_id in ids:
        records = ledger.records(communication_id=communication_id)
        by_channel: dict[str, list[EvidenceRecord]] = {}
        for record in records:
            if record.body["channel"] in NoticeChannel.__members__.values():
                by_channel.setdefault(record.body["channel"], []).append(record)
        for channel, seen in by_channel.items():
            sent = [r for r in seen if r.body["type"] == EventType.RELAY_ACCEPTED]
            proofs = [
                r
                for r in seen
                if r.body["legal_proof"]["proof"] and r.body["legal_proof"]["code"] in _PROOF_KINDS
            ]
            if not sent and not proofs:
                continue
            first = min(proofs, key=lambda r: r.body["occurred_at"]) if proofs else None
            sent_on = local_date((sent or proofs)[0].body["occurred_at"])
            proof = None
            if first is not None:
                on = max(local_date(first.body["occurred_at"]), sent_on)
                proof = Proof(kind=_PROOF_KINDS[first.body["legal_proof"]["code"]], on=on)
            notices.append(
                Notice(
                    channel=NoticeChannel(channel),
                    sent_on=sent_on,
                    proof=proof,
                    evidence_ids=(first.id,) if first is not None else (),
                )
            )
    return tuple(notices)


def clock_case(stored: StoredCase, notices: Sequence[Notice]) -> Case:
    """The case as the clock reads it: as imported, plus ccm's notices and the disputes
    opened on its channels."""
    imported = stored.file.case
    opened = tuple(
        Dispute(opened_on=d.opened_on, answered_on=d.answered_on) for d in stored.disputes
    )
    return imported.model_copy(
        update={
            "notices": (*imported.notices, *notices),
            "disputes": (*imported.disputes, *opened),
        }
    )


def evaluate_case(engine: Engine, ledger: Ledger, stored: StoredCase, at: date) -> Evaluation:
    """The RN 593 clock of a stored case at ``at``, under the case's own policy, with
    every dispute recorded so far on its channels (picked up first)."""
    if sync_disputes(engine, ledger, stored.id, now=datetime.now(UTC)):
        stored = get_case(engine, stored.id) or stored
    notices = case_notices(engine, ledger, stored)
    return evaluate(clock_case(stored, notices), at, stored.profile.policy)


def eligible_from(engine: Engine, ledger: Ledger, stored: StoredCase, at: date) -> date | None:
    """The first date from ``at`` the case would be eligible if nothing changed."""
    notices = case_notices(engine, ledger, stored)
    return first_eligible(clock_case(stored, notices), at, stored.profile.policy)


def sync_disputes(engine: Engine, ledger: Ledger, case_id: str, *, now: datetime) -> int:
    """Open a dispute on the case for each dispute event of its communications not seen
    yet; return how many were opened."""
    disputes = [
        r
        for r in ledger.records(case_id=case_id)
        if r.body["type"] == EventType.RECIPIENT_REJECTED and "keyword" in r.body["details"]
    ]
    if not disputes:
        return 0
    opened = 0
    with engine.begin() as connection:
        known = {
            r.evidence_id
            for r in connection.execute(
                select(case_disputes.c.evidence_id).where(case_disputes.c.case_id == case_id)
            )
        }
        for record in disputes:
            if record.id in known:
                continue
            connection.execute(
                upsert_insert(engine)(case_disputes)
                .values(
                    case_id=case_id,
                    opened_on=local_date(record.body["occurred_at"]),
                    method=str(record.body["details"].get("method") or record.body["channel"]),
                    evidence_id=record.id,
                    created_at=now,
                )
                .on_conflict_do_nothing(index_elements=["evidence_id"])  # another worker's
            )
            opened += 1
    return opened


def answer_dispute(
    engine: Engine,
    ledger: Ledger,
    case_id: str,
    dispute_id: int,
    *,
    answered_on: date,
    answered_by: str,
) -> CaseDispute:
    """Record the operator's answer to a dispute: the payment window restarts from it (R9).

    Raises:
        DataValidationError: no such open dispute, or an answer before it was opened.
    """
    with engine.begin() as connection:
        row = connection.execute(
            select(case_disputes).where(
                case_disputes.c.case_id == case_id, case_disputes.c.id == dispute_id
            )
        ).first()
        if row is None:
            raise DataValidationError(
                [DataError(path="dispute_id", message=f"no dispute {dispute_id} on case {case_id}")]
            )
        if row.answered_on is not None:
            raise StateConflict(
                f"dispute {dispute_id} was answered on {row.answered_on.isoformat()}"
            )
        if answered_on > local_date(datetime.now(UTC)):
            raise DataValidationError(
                [DataError(path="answered_on", message="must not be in the future")]
            )
        if answered_on < row.opened_on:
            raise DataValidationError(
                [
                    DataError(
                        path="answered_on",
                        message=f"before the dispute was opened ({row.opened_on.isoformat()})",
                    )
                ]
            )
        answered = connection.execute(
            update(case_disputes)
            .where(case_disputes.c.id == dispute_id, case_disputes.c.answered_on.is_(None))
            .values(answered_on=answered_on)
        ).rowcount
        if not answered:  # answered meanwhile by someone else
            raise StateConflict(f"dispute {dispute_id} was answered meanwhile")
    case_event(
        ledger,
        case_id,
        EventType.DISPUTE_ANSWERED,
        occurred_at=datetime.now(UTC),
        actor=answered_by,
        details={
            "method": "dispute_answer",
            "evidence_ids": row.evidence_id or "",
            "answered_on": answered_on.isoformat(),
        },
    )
    return CaseDispute(
        id=row.id,
        opened_on=row.opened_on,
        method=row.method,
        evidence_id=row.evidence_id,
        answered_on=answered_on,
    )


def decide(
    engine: Engine,
    ledger: Ledger,
    store: ArtifactStore,
    case_id: str,
    *,
    kind: str,
    decided_by: str,
    now: datetime,
) -> tuple[CaseDecision, Evaluation]:
    """Record a suspension or termination, only when the clock allows it today, with the
    evidence ids of the proving notice (R24).

    Raises:
        LookupError: no such case.
        DataValidationError: ``kind`` is neither ``suspension`` nor ``termination``, or
            the case is closed.
        CaseNotEligible: the clock does not allow it (its blocks say why), or the proving
            evidence is not in the ledger.
    """
    if kind not in {"suspension", "termination"}:
        raise DataValidationError(
            [DataError(path="kind", message="must be suspension or termination")]
        )
    stored = get_case(engine, case_id)
    if stored is None:
        raise LookupError(case_id)
    if stored.state not in ACTIVE_STATES:
        raise DataValidationError(
            [DataError(path="case", message=f"the case is {stored.state}; nothing to decide")]
        )
    today = local_date(now)
    evaluation = evaluate_case(engine, ledger, stored, today)
    if not evaluation.eligible_for_termination:
        raise CaseNotEligible(evaluation)
    evidence = set(evaluation.proof.evidence_ids)
    recorded = {  # R24: proofs ccm recorded of notices to this payer, nothing else
        evidence_id
        for notice in case_notices(engine, ledger, stored)
        for evidence_id in notice.evidence_ids
    }
    if not evidence or not evidence <= recorded:  # R24: no decision without its proof
        raise CaseNotEligible(
            evaluation,
            "rule R24: the proving notice's evidence ("
            + (", ".join(sorted(evidence)) or "none")
            + ") is not a legal proof in ccm's ledger; record the notice through ccm first",
        )
    snapshot = json.dumps(evaluation.as_json(), sort_keys=True)
    artefact = store.put(snapshot.encode(), media_type="application/json")
    decision = CaseDecision(
        id=f"dec_{uuid.uuid4().hex[:20]}",
        kind=kind,
        decided_on=today,
        decided_by=decided_by,
        evidence_ids=tuple(sorted(evidence)),
        created_at=now,
    )
    with engine.begin() as connection:
        changed = connection.execute(
            update(cases)
            .where(cases.c.id == case_id, cases.c.state == stored.state)
            .values(
                state=CaseState.SUSPENDED if kind == "suspension" else CaseState.TERMINATED,
                open_contract=None,
                closed_at=now,
                updated_at=now,
            )
        ).rowcount
        if changed != 1:
            raise DataValidationError(
                [DataError(path="case", message="the case changed meanwhile; evaluate it again")]
            )
        connection.execute(
            case_decisions.insert().values(
                id=decision.id,
                case_id=case_id,
                kind=kind,
                decided_on=today,
                decided_by=decided_by,
                evidence_ids=json.dumps(list(decision.evidence_ids)),
                evaluation=snapshot,
                created_at=now,
            )
        )
    case_event(
        ledger,
        case_id,
        EventType.DECISION_RECORDED,
        occurred_at=now,
        actor=decided_by,
        details={"method": kind, "evidence_ids": ",".join(decision.evidence_ids)},
        artifacts=(
            ArtifactRef(
                role="rn593_evaluation", sha256=artefact.sha256, media_type="application/json"
            ),
        ),
    )
    return decision, evaluation


def attempt_outcomes(engine: Engine, stored: StoredCase) -> list[str]:
    """For each attempt of the case (in order): ``proved``, ``open`` (sent, no proof
    yet), ``failed``, ``cancelled`` or ``skipped`` (never sent)."""
    ids = [a.communication_id for a in stored.attempts if a.communication_id]
    with engine.connect() as connection:
        status = {
            row.id: row.status
            for row in connection.execute(
                select(communications.c.id, communications.c.status).where(
                    communications.c.id.in_(ids)
                )
            )
        }
    named = {"proven": "proved", "failed": "failed", "cancelled": "cancelled"}
    return [
        "skipped"
        if a.state == "skipped" or a.communication_id is None
        else named.get(str(status.get(a.communication_id)), "open")
        for a in stored.attempts
    ]


def certificate_section(
    stored: StoredCase,
    evaluation: Evaluation,
    outcomes: Sequence[str],
    eligible_on: date | None = None,
) -> dict[str, Any]:
    """The ``rn593`` section of the case's certificate: the verdict, the clock's dates,
    every attempt and the decisions taken."""

    def day(value: date | None) -> str | None:
        return value.isoformat() if value else None

    proof = evaluation.proof
    return {
        "contract": stored.contract_id,
        "protocol": stored.protocol,
        "verdict": {
            "proved": proof.proven,
            "date": day(proof.on),
            "channel": str(proof.channel) if proof.channel else None,
            "evidence_ids": list(proof.evidence_ids),
        },
        "clock": {
            "at": evaluation.at.isoformat(),
            "oldest_unpaid_due_date": day(evaluation.oldest_unpaid_due_date),
            "notify_by": day(evaluation.notify_by),
            "notified_on_time": evaluation.notified_on_time,
            "payment_deadline": day(evaluation.payment_deadline),
            "earliest_termination": day(evaluation.earliest_termination),
            "eligible": evaluation.eligible_for_termination,
            "eligible_from": day(eligible_on),
            "delinquent_days": evaluation.delinquent_days,
            "unpaid_installments_12m": evaluation.unpaid_installments_12m,
            "blocks": [str(b) for b in evaluation.blocks],
        },
        "attempts": [
            {
                "round": a.round + 1,
                "step": a.step + 1,
                "channel": a.channel,
                "date": local_date(a.created_at).isoformat(),
                "outcome": outcome,
                "communication_id": a.communication_id,
                "note": a.note,
            }
            for a, outcome in zip(stored.attempts, outcomes, strict=True)
        ],
        "decisions": [
            {"kind": d.kind, "date": d.decided_on.isoformat(), "evidence_ids": list(d.evidence_ids)}
            for d in stored.decisions
        ],
    }
