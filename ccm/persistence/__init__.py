"""Persistence: one SQLAlchemy database (SQLite embedded, PostgreSQL scaled out)."""

from ccm.persistence.db import create_database_engine, upgrade_database, upsert_insert
from ccm.persistence.sequences import SqlSequenceStore

__all__ = ["SqlSequenceStore", "create_database_engine", "upgrade_database", "upsert_insert"]
