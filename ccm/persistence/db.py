"""Engine creation and migrations.

SQLite runs in WAL mode with a busy timeout so an API process and an in-process worker
can share the file; PostgreSQL needs nothing special. ``upgrade_database`` applies the
Alembic migrations shipped in ``ccm/persistence/migrations``.
"""

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from ccm.errors import ConfigurationError

__all__ = ["create_database_engine", "upsert_insert", "upgrade_database"]

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def create_database_engine(url: str) -> Engine:
    """An engine for ``url``; creates the folder of a SQLite file if needed.

    Raises:
        ConfigurationError: the URL is malformed, its driver is missing, or the SQLite
            folder cannot be created.
    """
    try:
        if url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, future=True)
    except (ArgumentError, NoSuchModuleError, OSError) as err:
        raise ConfigurationError(f"cannot use database {url!r}: {err}") from err
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def upsert_insert(engine: Engine) -> Any:
    """The ``insert`` of the engine's dialect: the one with ``on_conflict_do_update``
    (PostgreSQL and SQLite spell upserts the same way in SQLAlchemy)."""
    return (postgresql if engine.dialect.name == "postgresql" else sqlite).insert


def upgrade_database(engine: Engine, revision: str = "head") -> None:
    """Apply migrations up to ``revision``.

    SQLite runs DDL outside transactions, so concurrent first starts of several
    processes would race; a lock file next to the database serialises them.
    """
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with _migration_lock(engine), engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


@contextmanager
def _migration_lock(engine: Engine) -> Iterator[None]:
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if not database or database == ":memory:":
        yield
        return
    with open(f"{database}.migrate.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
