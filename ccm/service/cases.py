"""RN 593 delinquency cases as stored: imported, updated, read back.

A case keeps the imported :class:`~ccm.rn593.casefile.CaseFile` and the ladder profile it
started with. What happened since is never copied into it: the notices and their proofs
are read from the case's communications and the evidence ledger each time the clock is
evaluated (:mod:`ccm.service.case_clock`), disputes opened on any channel are picked up
into ``case_disputes`` (:mod:`ccm.service.case_disputes`), and decisions are taken only
when the clock allows them (:mod:`ccm.service.case_decisions`).

Events about the case itself (imported, ladder cancelled, attempts exhausted, decision
recorded) go to the ledger with the case id as their subject, so the case's evidence pack
holds them next to its communications' events.
"""

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from ccm.errors import DataError, DataValidationError, StateConflict
from ccm.evidence.events import ArtifactRef, Channel, EventType, EvidenceEvent
from ccm.evidence.ledger import Ledger
from ccm.evidence.records import EvidenceRecord
from ccm.identifiers.protocol import ProtocolIssuer
from ccm.persistence.tables import (
    case_attempts,
    case_decisions,
    case_disputes,
    cases,
)
from ccm.ports import ArtifactStore
from ccm.rn593.casefile import CaseFile
from ccm.rn593.ladder import LadderProfile, profile_json
from ccm.service.communications import utc

__all__ = [
    "ACTIVE_STATES",
    "CaseAttempt",
    "CaseDecision",
    "CaseDispute",
    "CaseState",
    "ImportResult",
    "active_case_ids",
    "StoredCase",
    "case_event",
    "get_case",
    "import_cases",
    "list_cases",
    "local_date",
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
        created, updated = _store(
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
        case_event(
            ledger,
            case_id,
            EventType.SUBMISSION_ACCEPTED,
            occurred_at=now,
            actor=f"api_key:{imported_by}",
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
    return ImportResult(created=tuple(created), updated=tuple(updated))


def _store(
    engine: Engine,
    files: Sequence[CaseFile],
    protocol_of: dict[str, str | None],
    protocols: ProtocolIssuer | None,
    ans: str,
    stored_profile: str,
    imported_by: str,
    now: datetime,
) -> tuple[list[str], list[str]]:
    """Write the import's rows in one transaction; return the created and updated ids."""
    created: list[str] = []
    updated: list[str] = []
    with engine.begin() as connection:
        for item in files:
            content = item.model_dump_json(by_alias=True)
            active = connection.execute(
                select(cases.c.id).where(cases.c.open_contract == item.case.contract.id)
            ).first()
            if active is not None:
                connection.execute(
                    update(cases)
                    .where(cases.c.id == active.id)
                    .values(content=content, updated_at=now)
                )
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
    return created, updated


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


def active_case_ids(engine: Engine) -> list[str]:
    """The ids of the cases still watched (oldest first)."""
    query = (
        select(cases.c.id)
        .where(cases.c.state.in_(sorted(ACTIVE_STATES)))
        .order_by(cases.c.created_at, cases.c.id)
    )
    with engine.connect() as connection:
        return list(connection.execute(query).scalars())


def list_cases(engine: Engine, *, states: Sequence[str] | None = None) -> list[StoredCase]:
    """Cases (oldest first), optionally in ``states`` only."""
    query = select(cases).order_by(cases.c.created_at, cases.c.id)
    if states is not None:
        query = query.where(cases.c.state.in_(list(states)))
    with engine.connect() as connection:
        return [_stored(connection, row) for row in connection.execute(query).all()]
