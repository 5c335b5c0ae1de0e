"""``ccm evidence audit``: re-verify the whole ledger and name what was tampered with.

Every stored body is re-hashed, every link re-followed and every signed checkpoint
compared with the Merkle root recomputed from the rows. A finding names its kind and
the event: *altered* (body or columns no longer match the hash), *inserted* (an event
nothing links to, or a duplicate), *deleted* (an index missing, or fewer events than a
checkpoint covers), *reordered* (an intact event at the wrong place), *broken chain*
(a link that none of those explains) and *checkpoint* (a seal that fails, or a signed
root the rows no longer produce, which also catches a history rewritten with fresh
hashes).
"""

import bisect
import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Literal

from ccm.evidence.ledger import Ledger
from ccm.evidence.merkle import MerkleTree, leaf_hash
from ccm.evidence.records import GENESIS
from ccm.ports import SignatureVerifier

__all__ = ["AuditReport", "Finding", "audit_ledger"]

Kind = Literal["altered", "inserted", "deleted", "reordered", "broken_chain", "checkpoint"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Finding:
    """One thing the audit found wrong."""

    kind: Kind
    message: str
    event_id: str | None = None
    position: int | None = None


@dataclass(slots=True, kw_only=True)
class AuditReport:
    """What the audit checked and found."""

    events: int = 0
    checkpoints: int = 0
    unanchored: int = 0
    """Events recorded after the latest checkpoint (not yet covered by a signed root)."""
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings

    def add(self, kind: Kind, message: str, *, row: "_Row | None" = None) -> None:
        """Record a finding, about ``row`` when it names one event."""
        self.findings.append(
            Finding(
                kind=kind,
                message=message,
                event_id=row.id if row else None,
                position=row.position if row else None,
            )
        )


@dataclass(slots=True)
class _Row:
    position: int
    id: str
    hash: str
    body: dict[str, Any] | None
    intact: bool


def _load(ledger: Ledger, report: AuditReport) -> list[_Row]:
    rows = []
    for position, event_id, body_text, digest, case_id, kind, communication in ledger.iter_rows():
        intact = hashlib.sha256(body_text.encode()).hexdigest() == digest
        try:
            body = json.loads(body_text)
        except ValueError:
            body = None
        if not isinstance(body, dict):
            body = None
        row = _Row(position, event_id, digest, body, intact)
        if body is None or not intact:
            report.add(
                "altered",
                f"event {event_id} at position {position}: its body no longer matches its hash",
                row=row,
            )
            row.intact = False
        elif (
            body.get("id"),
            body.get("case_id"),
            body.get("type"),
            body.get("communication_id"),
        ) != (event_id, case_id, kind, communication):
            report.add(
                "altered",
                f"event {event_id} at position {position}: its columns (id, "
                "communication, case, type) no longer match its hashed body",
                row=row,
            )
        rows.append(row)
    return rows


def _index(row: _Row) -> int | None:
    value = row.body.get("index") if row.body else None
    return value if isinstance(value, int) else None


def _in_order(indices: list[int]) -> set[int]:
    """Positions (into ``indices``) of one longest strictly increasing subsequence."""
    tails: list[int] = []
    tail_at: list[int] = []
    parent = [-1] * len(indices)
    for i, value in enumerate(indices):
        k = bisect.bisect_left(tails, value)
        if k == len(tails):
            tails.append(value)
            tail_at.append(i)
        else:
            tails[k] = value
            tail_at[k] = i
        parent[i] = tail_at[k - 1] if k else -1
    keep, i = set(), tail_at[-1] if tail_at else -1
    while i >= 0:
        keep.add(i)
        i = parent[i]
    return keep


def _structure(rows: list[_Row], report: AuditReport) -> None:
    by_index: dict[int, list[_Row]] = defaultdict(list)
    for row in rows:
        index = _index(row)
        if index is not None:
            by_index[index].append(row)
    linked = {str(r.body.get("prev_hash")) for r in rows if r.body}
    top = max(by_index, default=-1)
    missing = sorted(set(range(top + 1)) - set(by_index))
    for index in missing:
        after = by_index.get(index + 1)
        report.add(
            "deleted",
            f"the event with index {index} is missing"
            + (f" (it came before event {after[0].id})" if after else ""),
        )
    inserted: set[int] = set()

    def flag(row: _Row, why: str) -> None:
        inserted.add(row.position)
        report.add("inserted", f"event {row.id} at position {row.position} {why}", row=row)

    for index, group in sorted(by_index.items()):
        first = group[0]
        any_linked = any(r.hash in linked for r in group)
        for row in group:
            if row is not first and row.hash == first.hash:
                flag(row, f"is a copy of event {first.id} (index {index})")
            elif row.hash not in linked and index + 1 in by_index:
                flag(row, f"(index {index}) is not linked by the event that follows it")
            elif row is not first and not any_linked:
                # Two heads with one index: the later-stored one is the planted one.
                flag(row, f"duplicates index {index} of event {first.id}")
    placed = [r for r in rows if _index(r) is not None and r.position not in inserted]
    keep = _in_order([_index(r) or 0 for r in placed])
    for i, row in enumerate(placed):
        if i not in keep:
            report.add(
                "reordered",
                f"event {row.id} has index {_index(row)} but was moved to position {row.position}",
                row=row,
            )
    if not missing and not inserted and len(keep) == len(placed):
        for row in placed:
            if _index(row) != row.position:
                report.add(
                    "reordered",
                    f"event {row.id} has index {_index(row)} but is stored at "
                    f"position {row.position}",
                    row=row,
                )
    unique = {i: g[0] for i, g in by_index.items() if len(g) == 1}
    for index, row in sorted(unique.items()):
        if row.body is None:
            continue
        before = unique.get(index - 1)
        expected = GENESIS if index == 0 else (before.hash if before else None)
        if expected is None or row.body.get("prev_hash") == expected:
            continue
        if before is not None and before.intact:  # otherwise already reported as altered
            report.add(
                "altered",
                f"event {before.id} at position {before.position} was altered and "
                f"re-hashed: event {row.id} after it links to a different hash",
                row=before,
            )


def _leaf(digest: str) -> bytes:
    try:
        return leaf_hash(bytes.fromhex(digest))
    except ValueError:  # a mangled hash column: a leaf that matches no signed root
        return leaf_hash(digest.encode())


def _checkpoints(
    ledger: Ledger, rows: list[_Row], verifier: SignatureVerifier | None, report: AuditReport
) -> None:
    tree = MerkleTree(_leaf(r.hash) for r in rows)
    heads = ledger.checkpoints()
    report.checkpoints = len(heads)
    report.unanchored = len(rows) - (heads[-1].tree_size if heads else 0)
    for head in heads:
        name = f"checkpoint at size {head.tree_size} issued {head.issued_at}"
        if verifier is not None:
            check = verifier.verify_seal(head.signed_bytes(), head.seal)
            if not check.ok:
                report.add("checkpoint", f"{name}: seal invalid: " + "; ".join(check.problems))
        if head.tree_size > len(tree):
            report.add(
                "deleted", f"{name} covers {head.tree_size} events; the ledger holds {len(tree)}"
            )
        elif tree.root(head.tree_size).hex() != head.root_hash:
            report.add(
                "checkpoint",
                f"{name}: the events before it no longer produce its signed root "
                "(history altered, inserted, deleted or reordered)",
            )


def audit_ledger(ledger: Ledger, *, verifier: SignatureVerifier | None) -> AuditReport:
    """Re-verify every event, link and checkpoint of ``ledger``.

    Parameters:
        verifier: checks checkpoint seals; ``None`` skips the seals (not the roots).
    """
    report = AuditReport()
    rows = _load(ledger, report)
    report.events = len(rows)
    _structure(rows, report)
    _checkpoints(ledger, rows, verifier, report)
    return report
