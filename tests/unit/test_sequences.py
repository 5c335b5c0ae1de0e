"""Protocol sequences in the embedded database stay gap-free under concurrency."""

from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

from ccm.identifiers import ProtocolFormat, ProtocolIssuer
from ccm.persistence import SqlSequenceStore, create_database_engine, upgrade_database


def test_concurrent_issues_are_unique_and_gap_free(tmp_path: Path) -> None:
    engine = create_database_engine(f"sqlite:///{tmp_path / 'ccm.db'}")
    upgrade_database(engine)
    issuer = ProtocolIssuer(layout=ProtocolFormat(), store=SqlSequenceStore(engine))
    day = date(2026, 11, 21)
    with ThreadPoolExecutor(max_workers=8) as pool:
        issued = list(
            pool.map(lambda _: issuer.issue(ans_registration="412345", day=day), range(80))
        )
    assert sorted(int(p[-6:]) for p in issued) == list(range(1, 81))
    assert {p[:14] for p in issued} == {"41234520261121"}


def test_upgrade_is_idempotent(tmp_path: Path) -> None:
    engine = create_database_engine(f"sqlite:///{tmp_path / 'nested' / 'ccm.db'}")
    upgrade_database(engine)
    upgrade_database(engine)
    store = SqlSequenceStore(engine)
    assert store.next_value("x", date(2026, 1, 1)) == 1
