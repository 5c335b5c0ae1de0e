"""Evidence fixtures: a migrated ledger per test, the development sealer and verifier."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from ccm.evidence import Channel, EventType, EvidenceEvent
from ccm.evidence.ledger import Ledger
from ccm.persistence import create_database_engine, upgrade_database
from signing import DevelopmentPki, LocalTimestampAuthority
from signing.seal import CmsSealer
from signing.verification import OfflineVerifier

T0 = datetime(2025, 1, 20, 12, 0, tzinfo=UTC)


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    engine = create_database_engine(f"sqlite:///{tmp_path / 'ccm.db'}")
    upgrade_database(engine)
    return engine


@pytest.fixture
def ledger(engine: Engine) -> Ledger:
    return Ledger(engine, name="ccm-test")


@pytest.fixture(scope="session")
def sealer(pki: DevelopmentPki) -> CmsSealer:
    return CmsSealer(pki.signer(), timestamper=LocalTimestampAuthority(pki.tsa()))


@pytest.fixture(scope="session")
def verifier(pki: DevelopmentPki) -> OfflineVerifier:
    return OfflineVerifier([pki.ca()])


def event(
    communication: str = "c1",
    kind: EventType = EventType.RELAY_ACCEPTED,
    *,
    minutes: int = 0,
    channel: Channel = Channel.EMAIL,
    **fields: object,
) -> EvidenceEvent:
    return EvidenceEvent(
        communication_id=communication,
        type=kind,
        channel=channel,
        occurred_at=T0 + timedelta(minutes=minutes),
        actor="ccm",
        **fields,  # type: ignore[arg-type]
    )


def fill(ledger: Ledger, count: int, communications: int = 3) -> None:
    ledger.append_many([event(f"c{i % communications}", minutes=i) for i in range(count)])
