"""The ledger chains, indexes and checkpoints events; the audit names every tampering."""

import hashlib
import json
import math
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, text

from ccm.errors import EvidenceError
from ccm.evidence import EventType, verify_consistency, verify_inclusion
from ccm.evidence.audit import audit_ledger
from ccm.evidence.ledger import Ledger
from ccm.evidence.records import GENESIS, canonical, jcs
from signing.seal import CmsSealer
from signing.verification import OfflineVerifier
from tests.evidence.conftest import event, fill

INSERT_ROW = (
    "INSERT INTO evidence_events (position, id, communication_id, case_id, type, body, hash) "
)


def test_records_are_chained_globally_and_per_communication(ledger: Ledger) -> None:
    fill(ledger, 6, communications=2)
    records = ledger.records()
    assert [r.index for r in records] == list(range(6))
    assert records[0].body["prev_hash"] == GENESIS
    for before, after in zip(records, records[1:], strict=False):
        assert after.body["prev_hash"] == before.hash
    c1 = ledger.records(communication_id="c1")
    assert c1[0].body["communication_prev_hash"] is None
    assert [r.body["communication_prev_hash"] for r in c1[1:]] == [r.hash for r in c1[:-1]]
    for record in records:
        assert record.recomputed_hash() == record.hash


def test_a_record_names_its_etsi_event_and_legal_assessment(ledger: Ledger) -> None:
    record = ledger.append(
        event(
            kind=EventType.CONTENT_ACCESSED, details={"method": "mdn", "disposition": "displayed"}
        )
    )
    assert record.body["etsi_event"] == "http://uri.etsi.org/19522/Event/ContentAccessTracking"
    assert record.body["legal_proof"]["proof"] is True
    assert record.body["legal_proof"]["rule"] == "R14"
    assert record.body["occurred_at"] == "2025-01-20T12:00:00.000000Z"


def test_concurrent_appends_never_fork_the_chain(engine: Engine) -> None:
    def writer(name: str) -> None:
        ledger = Ledger(engine)
        for i in range(15):
            ledger.append(event(name, minutes=i))

    threads = [threading.Thread(target=writer, args=(f"w{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ledger = Ledger(engine)
    assert ledger.size() == 60
    report = audit_ledger(ledger, verifier=None)
    assert report.ok, report.findings


def test_checkpoint_is_signed_and_later_ones_are_consistent(
    ledger: Ledger, sealer: CmsSealer, verifier: OfflineVerifier
) -> None:
    fill(ledger, 10)
    first = ledger.checkpoint(sealer)
    assert ledger.checkpoint(sealer) == first  # nothing new: same head
    fill(ledger, 7)
    second = ledger.checkpoint(sealer)
    assert (first.tree_size, second.tree_size) == (10, 17)
    check = verifier.verify_seal(second.signed_bytes(), second.seal)
    assert check.ok, check.problems
    assert check.signed_at is not None
    tree = ledger.tree()
    proof = tree.consistency_proof(10, 17)
    assert verify_consistency(
        10, 17, bytes.fromhex(first.root_hash), bytes.fromhex(second.root_hash), proof
    )
    forged = json.loads(second.signed_bytes())
    forged["tree_size"] = 16
    assert not verifier.verify_seal(json.dumps(forged).encode(), second.seal).ok


def test_an_untouched_ledger_audits_clean(
    ledger: Ledger, sealer: CmsSealer, verifier: OfflineVerifier
) -> None:
    fill(ledger, 20)
    ledger.checkpoint(sealer)
    fill(ledger, 3)
    report = audit_ledger(ledger, verifier=verifier)
    assert report.ok, report.findings
    assert (report.events, report.checkpoints, report.unanchored) == (23, 1, 3)


def _tamper(engine: Engine, *statements: str) -> None:
    with engine.begin() as connection:
        for statement in statements:
            connection.execute(text(statement))


def _row(engine: Engine, position: int) -> dict[str, object]:
    with engine.connect() as connection:
        row = connection.execute(
            text("SELECT * FROM evidence_events WHERE position = :p"), {"p": position}
        ).mappings()
        return dict(row.one())


@pytest.fixture
def sealed(ledger: Ledger, sealer: CmsSealer) -> Ledger:
    fill(ledger, 12)
    ledger.checkpoint(sealer)
    return ledger


def _kinds(ledger: Ledger, verifier: OfflineVerifier) -> dict[str, set[str | None]]:
    report = audit_ledger(ledger, verifier=verifier)
    found: dict[str, set[str | None]] = {}
    for finding in report.findings:
        found.setdefault(finding.kind, set()).add(finding.event_id)
    return found


def test_audit_names_an_edited_event(
    sealed: Ledger, engine: Engine, verifier: OfflineVerifier
) -> None:
    victim = _row(engine, 5)
    body = str(victim["body"]).replace("2025-01-20T12:05", "2025-01-19T12:05")
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE evidence_events SET body = :b WHERE position = 5"), {"b": body}
        )
    assert _kinds(sealed, verifier) == {"altered": {victim["id"]}}


def test_audit_names_an_edited_and_rehashed_event(
    sealed: Ledger, engine: Engine, verifier: OfflineVerifier
) -> None:
    victim = _row(engine, 5)
    body = str(victim["body"]).replace('"actor":"ccm"', '"actor":"someone"')
    digest = hashlib.sha256(body.encode()).hexdigest()
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE evidence_events SET body = :b, hash = :h WHERE position = 5"),
            {"b": body, "h": digest},
        )
    found = _kinds(sealed, verifier)
    assert found["altered"] == {victim["id"]}
    assert "checkpoint" in found


def test_audit_names_a_deleted_event(
    sealed: Ledger, engine: Engine, verifier: OfflineVerifier
) -> None:
    _tamper(engine, "DELETE FROM evidence_events WHERE position = 4")
    report = audit_ledger(sealed, verifier=verifier)
    deleted = [f for f in report.findings if "index 4 is missing" in f.message]
    assert len(deleted) == 1 and deleted[0].kind == "deleted"
    assert str(_row(engine, 5)["id"]) in deleted[0].message
    assert {f.kind for f in report.findings} == {"deleted"}  # the checkpoint also saw it


def test_audit_names_a_deleted_tail(
    sealed: Ledger, engine: Engine, verifier: OfflineVerifier
) -> None:
    _tamper(engine, "DELETE FROM evidence_events WHERE position >= 10")
    report = audit_ledger(sealed, verifier=verifier)
    assert [f.kind for f in report.findings] == ["deleted"]
    assert "covers 12 events; the ledger holds 10" in report.findings[0].message


def test_audit_names_an_inserted_event(
    sealed: Ledger, engine: Engine, verifier: OfflineVerifier
) -> None:
    # A forger shifts the rows up and slots a well-formed, correctly hashed event in.
    previous = _row(engine, 5)
    body = json.loads(str(_row(engine, 6)["body"]))
    body.update(id="forged-0000", index=6, prev_hash=previous["hash"], actor="forger")
    text_body = json.dumps(body, separators=(",", ":"), sort_keys=True)
    with engine.begin() as connection:
        for position in range(11, 5, -1):
            connection.execute(
                text("UPDATE evidence_events SET position = :n WHERE position = :p"),
                {"n": position + 1, "p": position},
            )
        connection.execute(
            text(INSERT_ROW + "VALUES (6, 'forged-0000', 'c0', NULL, 'relay_accepted', :b, :h)"),
            {"b": text_body, "h": hashlib.sha256(text_body.encode()).hexdigest()},
        )
    found = _kinds(sealed, verifier)
    assert found["inserted"] == {"forged-0000"}
    assert "reordered" not in found and "deleted" not in found
    assert "checkpoint" in found


def test_audit_names_a_duplicated_event(
    sealed: Ledger, engine: Engine, verifier: OfflineVerifier
) -> None:
    copy = _row(engine, 3)
    with engine.begin() as connection:
        connection.execute(
            text(INSERT_ROW + "VALUES (12, :id, :c, NULL, :t, :b, :h)"),
            {
                "id": f"{copy['id']}-copy",
                "c": copy["communication_id"],
                "t": copy["type"],
                "b": copy["body"],
                "h": copy["hash"],
            },  # fmt: skip
        )
    found = _kinds(sealed, verifier)
    assert f"{copy['id']}-copy" in found["inserted"]


def test_audit_names_reordered_events(
    sealed: Ledger, engine: Engine, verifier: OfflineVerifier
) -> None:
    a, b = _row(engine, 2), _row(engine, 3)
    _tamper(
        engine,
        "UPDATE evidence_events SET position = 100 WHERE position = 2",
        "UPDATE evidence_events SET position = 2 WHERE position = 3",
        "UPDATE evidence_events SET position = 3 WHERE position = 100",
    )
    found = _kinds(sealed, verifier)
    assert found["reordered"] <= {a["id"], b["id"]} and found["reordered"]
    assert "checkpoint" in found
    assert "altered" not in found


def test_audit_names_a_replaced_checkpoint(
    sealed: Ledger, engine: Engine, verifier: OfflineVerifier
) -> None:
    _tamper(engine, "UPDATE evidence_checkpoints SET root_hash = '" + "ab" * 32 + "'")
    report = audit_ledger(sealed, verifier=verifier)
    assert {f.kind for f in report.findings} == {"checkpoint"}
    assert any("seal invalid" in f.message for f in report.findings)


def test_audit_detects_a_history_rewritten_with_fresh_hashes(
    sealed: Ledger, engine: Engine, verifier: OfflineVerifier
) -> None:
    # Re-hash every event from position 3 on, as a forger with database access would.
    records = sealed.records()
    prev = records[2].hash
    with engine.begin() as connection:
        for record in records[3:]:
            body = dict(record.body, prev_hash=prev)
            if record.index == 3:
                body["actor"] = "forger"
            text_body = json.dumps(body, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
            prev = hashlib.sha256(text_body.encode()).hexdigest()
            connection.execute(
                text("UPDATE evidence_events SET body = :b, hash = :h WHERE position = :p"),
                {"b": text_body, "h": prev, "p": record.index},
            )
    found = _kinds(sealed, verifier)
    assert set(found) == {"checkpoint"}


@pytest.mark.slow
def test_100000_events_stay_verifiable_with_logarithmic_proofs(
    ledger: Ledger, sealer: CmsSealer, verifier: OfflineVerifier
) -> None:
    n = 100_000
    for start in range(0, n, 20_000):
        ledger.append_many([event(f"c{i % 997}", minutes=i) for i in range(start, start + 20_000)])
    head = ledger.checkpoint(sealer)
    assert head.tree_size == n
    tree = ledger.tree()
    root = bytes.fromhex(head.root_hash)
    for record in ledger.records(communication_id="c500"):
        path = tree.inclusion_proof(record.index, n)
        assert len(path) <= math.ceil(math.log2(n))
        assert verify_inclusion(record.leaf, record.index, n, path, root)
    report = audit_ledger(ledger, verifier=verifier)
    assert report.ok and report.events == n


@pytest.mark.parametrize(
    "value",
    ["ação — “aspas” \u2028 \x00\x1f\x7f 😀 \ufeff", '\\"/\b\f\n\r\t', "", "ascii"],
)
def test_fast_canonical_json_equals_the_rfc8785_reference(ledger: Ledger, value: str) -> None:
    record = ledger.append(event(f"c-{value}", reasons=(value,), kind=EventType.EXPIRED))
    assert jcs(record.body) == canonical(record.body) == record.canonical_body()
    assert jcs({"n": 2**53 - 1, "b": [True, None, -7]}) == canonical(
        {"n": 2**53 - 1, "b": [True, None, -7]}
    )


def test_an_event_from_the_future_is_refused(ledger: Ledger) -> None:
    with pytest.raises(EvidenceError, match="occurred_at: .* is in the future"):
        ledger.append(event(minutes=60 * 24 * 365 * 5))
    assert ledger.size() == 0


def test_a_checkpoint_is_due_only_for_new_events_after_the_age(
    engine: Engine, sealer: CmsSealer
) -> None:
    now = [datetime(2026, 3, 1, 9, 0, tzinfo=UTC)]
    ledger = Ledger(engine, clock=lambda: now[0])
    day = timedelta(hours=24)
    assert not ledger.checkpoint_due(day)  # empty
    fill(ledger, 3)
    assert ledger.checkpoint_due(day)  # never checkpointed
    ledger.checkpoint(sealer)
    fill(ledger, 2)
    now[0] += timedelta(hours=23)
    assert not ledger.checkpoint_due(day)
    now[0] += timedelta(hours=1)
    assert ledger.checkpoint_due(day)
    ledger.checkpoint(sealer)
    now[0] += timedelta(days=3)
    assert not ledger.checkpoint_due(day)  # nothing new to anchor


def test_audit_names_an_event_moved_to_another_communication(
    sealed: Ledger, engine: Engine, verifier: OfflineVerifier
) -> None:
    victim = _row(engine, 7)
    _tamper(engine, "UPDATE evidence_events SET communication_id = 'elsewhere' WHERE position = 7")
    assert _kinds(sealed, verifier) == {"altered": {victim["id"]}}


def test_audit_names_a_forged_second_head(
    sealed: Ledger, engine: Engine, verifier: OfflineVerifier
) -> None:
    # A forger appends a well-formed event claiming the last index, linked like the real one.
    last = sealed.records()[-1]
    body = dict(last.body, id="forged-head", actor="forger")
    text_body = json.dumps(body, separators=(",", ":"), sort_keys=True)
    with engine.begin() as connection:
        connection.execute(
            text(INSERT_ROW + "VALUES (12, 'forged-head', :c, NULL, :t, :b, :h)"),
            {
                "c": last.communication_id,
                "t": last.body["type"],
                "b": text_body,
                "h": hashlib.sha256(text_body.encode()).hexdigest(),
            },  # fmt: skip
        )
    found = _kinds(sealed, verifier)
    assert found["inserted"] == {"forged-head"}
    assert "reordered" not in found


def test_audit_names_a_moved_last_event(
    sealed: Ledger, engine: Engine, verifier: OfflineVerifier
) -> None:
    last = _row(engine, 11)
    _tamper(engine, "UPDATE evidence_events SET position = 50 WHERE position = 11")
    assert _kinds(sealed, verifier) == {"reordered": {last["id"]}}


def test_audit_survives_mangled_rows(
    sealed: Ledger, engine: Engine, verifier: OfflineVerifier
) -> None:
    body = "[]"
    _tamper(
        engine,
        f"UPDATE evidence_events SET body = '{body}', "
        f"hash = '{hashlib.sha256(body.encode()).hexdigest()}' WHERE position = 2",
        "UPDATE evidence_events SET hash = '" + "zz" * 32 + "' WHERE position = 4",
    )
    report = audit_ledger(sealed, verifier=verifier)
    altered = {f.position for f in report.findings if f.kind == "altered"}
    assert {2, 4} <= altered


def test_appending_nothing_is_a_no_op(ledger: Ledger) -> None:
    assert ledger.append_many([]) == [] and ledger.size() == 0
