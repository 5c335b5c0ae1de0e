"""The evidence ledger: append-only, hash-chained, Merkle-indexed, in ccm's database.

Appends are serialised by the primary key on ``position``: two writers that read the
same head both try to insert the same position, one wins, the other re-reads the head
and retries. That works alike on SQLite (embedded) and PostgreSQL (scaled out).
Checkpoints sign the Merkle root with the operator's key and an RFC 3161 timestamp
(:class:`ccm.ports.Sealer`); taking one daily or more often is rule R32.
"""

import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, func, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError, OperationalError

from ccm.errors import EvidenceError
from ccm.evidence.events import EvidenceEvent
from ccm.evidence.merkle import MerkleTree
from ccm.evidence.records import GENESIS, EvidenceRecord, TreeHead, iso_utc, seal_event
from ccm.persistence.tables import evidence_checkpoints, evidence_events
from ccm.ports import Sealer

__all__ = ["Ledger"]

_RETRIES = 50
CLOCK_SKEW = timedelta(minutes=5)
"""How far in the future a provider's ``occurred_at`` may be, against our clock."""


def _now() -> datetime:
    return datetime.now(UTC)


class Ledger:
    """Records evidence events and proves what it holds.

    Parameters:
        engine: the database (migrated).
        name: how checkpoints name this ledger (the operator's, e.g. its ANS registration).
        clock: the source of ``recorded_at`` and checkpoint times.
    """

    def __init__(
        self, engine: Engine, *, name: str = "ccm", clock: Callable[[], datetime] = _now
    ) -> None:
        self._engine = engine
        self.name = name
        self._clock = clock
        self._tree = MerkleTree()

    def append(self, event: EvidenceEvent) -> EvidenceRecord:
        """Record one event and return it sealed into the chain.

        Raises:
            EvidenceError: the database kept refusing the append.
        """
        return self.append_many([event])[0]

    def append_many(self, events: Sequence[EvidenceEvent]) -> list[EvidenceRecord]:
        """Record several events in one transaction, in order (all or none).

        Raises:
            EvidenceError: an event claims to happen in the future, or the database kept
                refusing the append.
        """
        if not events:
            return []
        horizon = self._clock() + CLOCK_SKEW
        for event in events:
            if event.occurred_at > horizon:
                raise EvidenceError(
                    f"occurred_at: {event.occurred_at.isoformat()} is in the future "
                    f"(communication {event.communication_id}, {event.type})"
                )
        for attempt in range(_RETRIES):
            try:
                with self._engine.begin() as connection:
                    return self._append(connection, events)
            except (IntegrityError, OperationalError) as err:
                last = err
                time.sleep(min(0.002 * 2**attempt, 0.2))
        raise EvidenceError(f"could not append to the evidence ledger: {last}") from last

    def _append(
        self, connection: Connection, events: Sequence[EvidenceEvent]
    ) -> list[EvidenceRecord]:
        head = connection.execute(
            select(evidence_events.c.position, evidence_events.c.hash)
            .order_by(evidence_events.c.position.desc())
            .limit(1)
        ).first()
        position, prev = (head.position + 1, head.hash) if head else (0, GENESIS)
        last_of: dict[str, str | None] = {}
        records, rows = [], []
        for event in events:
            if event.communication_id not in last_of:
                last_of[event.communication_id] = connection.execute(
                    select(evidence_events.c.hash)
                    .where(evidence_events.c.communication_id == event.communication_id)
                    .order_by(evidence_events.c.position.desc())
                    .limit(1)
                ).scalar()
            record = seal_event(
                event,
                event_id=str(uuid.uuid4()),
                index=position,
                prev_hash=prev,
                communication_prev_hash=last_of[event.communication_id],
                recorded_at=self._clock(),
            )
            rows.append(
                {
                    "position": position,
                    "id": record.id,
                    "communication_id": event.communication_id,
                    "case_id": event.case_id,
                    "type": str(event.type),
                    "body": record.canonical_body().decode(),
                    "hash": record.hash,
                }
            )
            records.append(record)
            last_of[event.communication_id] = record.hash
            prev, position = record.hash, position + 1
        connection.execute(evidence_events.insert(), rows)
        return records

    def size(self) -> int:
        """How many events the ledger holds."""
        with self._engine.connect() as connection:
            return int(
                connection.execute(select(func.count()).select_from(evidence_events)).scalar_one()
            )

    def records(
        self, *, communication_id: str | None = None, case_id: str | None = None
    ) -> list[EvidenceRecord]:
        """Records in ledger order, all of them or those of one communication or case."""
        query = select(evidence_events.c.body, evidence_events.c.hash).order_by(
            evidence_events.c.position
        )
        if communication_id is not None:
            query = query.where(evidence_events.c.communication_id == communication_id)
        if case_id is not None:
            query = query.where(evidence_events.c.case_id == case_id)
        with self._engine.connect() as connection:
            return [EvidenceRecord.from_text(r.body, r.hash) for r in connection.execute(query)]

    def iter_rows(self) -> Iterable[tuple[int, str, str, str, str | None, str, str]]:
        """Raw rows in position order (for audits): position, id, body, hash, case id,
        type, communication id."""
        query = select(
            evidence_events.c.position,
            evidence_events.c.id,
            evidence_events.c.body,
            evidence_events.c.hash,
            evidence_events.c.case_id,
            evidence_events.c.type,
            evidence_events.c.communication_id,
        ).order_by(evidence_events.c.position)
        with self._engine.connect() as connection:
            for row in connection.execute(query).yield_per(5000):
                yield (
                    row.position,
                    row.id,
                    row.body,
                    row.hash,
                    row.case_id,
                    row.type,
                    row.communication_id,
                )

    def tree(self) -> MerkleTree:
        """The Merkle tree over the stored hashes, brought up to date incrementally."""
        query = (
            select(evidence_events.c.position, evidence_events.c.hash)
            .where(evidence_events.c.position >= len(self._tree))
            .order_by(evidence_events.c.position)
        )
        with self._engine.connect() as connection:
            for row in connection.execute(query):
                if row.position != len(self._tree):
                    raise EvidenceError(
                        f"the ledger has a gap at position {len(self._tree)}; "
                        "run `ccm evidence audit`"
                    )
                self._tree.append(EvidenceRecord(body={}, hash=row.hash).leaf)
        return self._tree

    def checkpoint(self, sealer: Sealer) -> TreeHead:
        """Sign and timestamp the current tree head (or return it if already signed).

        Raises:
            EvidenceError: the ledger is empty.
            SigningError: the sealer failed.
        """
        tree = self.tree()
        if not len(tree):
            raise EvidenceError("the evidence ledger is empty; nothing to checkpoint")
        existing = self.checkpoint_at(len(tree))
        if existing is not None:
            return existing
        unsigned = TreeHead(
            ledger=self.name,
            tree_size=len(tree),
            root_hash=tree.root().hex(),
            issued_at=iso_utc(self._clock()),
            seal=b"",
        )
        head = TreeHead(
            ledger=unsigned.ledger,
            tree_size=unsigned.tree_size,
            root_hash=unsigned.root_hash,
            issued_at=unsigned.issued_at,
            seal=sealer.seal(unsigned.signed_bytes()),
        )
        try:
            with self._engine.begin() as connection:
                connection.execute(
                    evidence_checkpoints.insert().values(
                        tree_size=head.tree_size,
                        root_hash=head.root_hash,
                        issued_at=head.issued_at,
                        ledger=head.ledger,
                        seal=head.seal,
                    )
                )
        except IntegrityError:  # another process signed the same size first
            concurrent = self.checkpoint_at(head.tree_size)
            if concurrent is not None:
                return concurrent
            raise
        return head

    def checkpoint_due(self, max_age: timedelta) -> bool:
        """Whether events wait for a checkpoint and the latest one is older than ``max_age``.

        A scheduler (cron, the worker) calls this often and checkpoints when it says so;
        ``max_age`` of a day or less keeps rule R32 (anchor the head at least daily).
        """
        latest = self.latest_checkpoint()
        if latest is None:
            return self.size() > 0
        if self.size() <= latest.tree_size:
            return False
        issued = datetime.fromisoformat(latest.issued_at.replace("Z", "+00:00"))
        return self._clock() - issued >= max_age

    def checkpoint_at(self, tree_size: int) -> TreeHead | None:
        """The checkpoint signed at exactly ``tree_size``, if any."""
        heads = self._checkpoints(evidence_checkpoints.c.tree_size == tree_size)
        return heads[0] if heads else None

    def checkpoints(self) -> list[TreeHead]:
        """Every checkpoint, smallest tree first."""
        return self._checkpoints(None)

    def latest_checkpoint(self) -> TreeHead | None:
        heads = self.checkpoints()
        return heads[-1] if heads else None

    def _checkpoints(self, condition: object) -> list[TreeHead]:
        query = select(evidence_checkpoints).order_by(evidence_checkpoints.c.tree_size)
        if condition is not None:
            query = query.where(condition)  # type: ignore[arg-type]
        with self._engine.connect() as connection:
            return [
                TreeHead(
                    ledger=row.ledger,
                    tree_size=row.tree_size,
                    root_hash=row.root_hash,
                    issued_at=row.issued_at,
                    seal=bytes(row.seal),
                )
                for row in connection.execute(query)
            ]
