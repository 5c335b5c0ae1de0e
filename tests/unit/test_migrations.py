"""The migrations build the tables the code declares, and 0012 keeps the ladder attempts
stored before it while making them unique per round."""

from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import IntegrityError

from ccm.persistence import create_database_engine, upgrade_database
from ccm.persistence.db import MIGRATIONS
from ccm.persistence.tables import case_attempts, metadata

NOW = datetime(2026, 11, 22, 12, tzinfo=UTC)


def _engine(tmp_path: Path) -> Engine:
    return create_database_engine(f"sqlite:///{tmp_path / 'ccm.db'}")


def test_the_migrated_schema_is_the_declared_one(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    upgrade_database(engine)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), metadata)
    assert differences == []


def test_0012_keeps_earlier_attempts_and_makes_them_unique_per_round(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    upgrade_database(engine, "0011")
    attempt = {"case_id": "case_1", "step": 0, "slot": 0, "channel": "email",
               "state": "launched", "created_at": NOW}  # fmt: skip
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO case_attempts (case_id, step, slot, channel, state, created_at) "
                "VALUES (:case_id, :step, :slot, :channel, :state, :created_at)"
            ),
            attempt,
        )
    upgrade_database(engine)
    with engine.begin() as connection:
        [kept] = connection.execute(select(case_attempts)).all()
        assert (kept.case_id, kept.round, kept.channel) == ("case_1", 0, "email")
        connection.execute(case_attempts.insert().values(**attempt, round=1))
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(case_attempts.insert().values(**attempt, round=1))


def test_0012_refuses_to_downgrade_once_a_case_has_a_second_round(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    upgrade_database(engine)
    with engine.begin() as connection:
        connection.execute(
            case_attempts.insert().values(case_id="case_1", round=1, step=0, slot=0,
                                          channel="email", state="launched", created_at=NOW)
        )  # fmt: skip
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with pytest.raises(RuntimeError, match="later round"), engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0011")
