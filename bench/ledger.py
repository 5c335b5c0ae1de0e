"""Benchmark of the evidence ledger: appends, checkpoints, proofs, audit, pack verification.

    .venv/bin/python -m bench.ledger --events 100000

Prints figures for one ledger of ``--events`` events in a fresh SQLite database, and
two ratios measured in the same run: batched against one-event-per-transaction appends,
and cached Merkle proofs against proofs recomputed from the leaves each time (what a
ledger without kept subtree hashes would do).
"""

import argparse
import math
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.report import publish
from ccm.evidence import Channel, EventType, EvidenceEvent
from ccm.evidence.audit import audit_ledger
from ccm.evidence.ledger import Ledger
from ccm.evidence.merkle import MerkleTree, verify_inclusion
from ccm.persistence import create_database_engine, upgrade_database

__all__ = ["main", "run"]

T0 = datetime(2025, 1, 1, tzinfo=UTC)


def _event(i: int) -> EvidenceEvent:
    return EvidenceEvent(
        communication_id=f"COM-{i % 5000:05d}",
        type=EventType.RELAY_ACCEPTED,
        channel=Channel.EMAIL,
        occurred_at=T0 + timedelta(seconds=i),
        actor="ccm",
        provider="sandbox",
        provider_message_id=f"m-{i}",
    )


def _ledger(folder: Path) -> Ledger:
    engine = create_database_engine(f"sqlite:///{folder / 'bench.db'}")
    upgrade_database(engine)
    return Ledger(engine, name="bench")


def run(events: int, *, home: str, single: int = 500, proofs: int = 200) -> dict[str, Any]:
    """Run every measurement; ``home`` holds the development PKI for the checkpoint."""
    from ccm.bootstrap import build_sealer, build_verifier
    from ccm.config import Settings

    settings = Settings(home=Path(home))
    sealer, verifier = build_sealer(settings), build_verifier(settings)
    result: dict[str, Any] = {"events": events}
    with tempfile.TemporaryDirectory() as scratch:
        ledger = _ledger(Path(scratch))
        start = time.perf_counter()
        for offset in range(0, events, 10_000):
            ledger.append_many([_event(i) for i in range(offset, min(events, offset + 10_000))])
        batched = time.perf_counter() - start
        result["append_batched_per_s"] = events / batched

        start = time.perf_counter()
        for i in range(single):
            ledger.append(_event(events + i))
        result["append_single_per_s"] = single / (time.perf_counter() - start)

        start = time.perf_counter()
        head = ledger.checkpoint(sealer)
        result["checkpoint_s"] = time.perf_counter() - start
        size, root = head.tree_size, bytes.fromhex(head.root_hash)
        tree = ledger.tree()
        step = max(1, size // proofs)
        start = time.perf_counter()
        longest = 0
        for index in range(0, size, step):
            path = tree.inclusion_proof(index, size)
            longest = max(longest, len(path))
            assert verify_inclusion(tree.leaf(index), index, size, path, root)
        cached = (time.perf_counter() - start) / len(range(0, size, step))
        naive_count = 5
        start = time.perf_counter()
        for index in range(0, size, size // naive_count):
            fresh = MerkleTree((tree.leaf(i) for i in range(size)), keep_subtrees=False)
            fresh.inclusion_proof(index, size)  # O(n) hashes per proof
        naive = (time.perf_counter() - start) / len(range(0, size, size // naive_count))
        result.update(
            proof_ms=cached * 1000,
            proof_naive_ms=naive * 1000,
            proof_hashes_max=longest,
            proof_hashes_bound=math.ceil(math.log2(size)),
        )
        start = time.perf_counter()
        report = audit_ledger(ledger, verifier=verifier)
        result["audit_s"] = time.perf_counter() - start
        result["audit_ok"] = report.ok
        result["tree_size"] = size
    result["ratio_batched_vs_single"] = (
        result["append_batched_per_s"] / result["append_single_per_s"]
    )
    result["ratio_naive_vs_cached_proof"] = result["proof_naive_ms"] / result["proof_ms"]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--home", default="var", help="CCM_HOME with the development PKI")
    args = parser.parse_args()
    result = run(args.events, home=args.home)
    publish("ledger", result)


if __name__ == "__main__":
    main()
