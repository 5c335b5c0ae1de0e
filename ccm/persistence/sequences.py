"""Daily sequences in the database: an atomic upsert, safe across processes."""

from datetime import date

from sqlalchemy import Engine

from ccm.persistence.db import upsert_insert
from ccm.persistence.tables import daily_sequences

__all__ = ["SqlSequenceStore"]


class SqlSequenceStore:
    """:class:`ccm.identifiers.SequenceStore` backed by the ``daily_sequences`` table."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._insert = upsert_insert(engine)

    def next_value(self, scope: str, day: date) -> int:
        statement = (
            self._insert(daily_sequences)
            .values(scope=scope, day=day, value=1)
            .on_conflict_do_update(
                index_elements=["scope", "day"],
                set_={"value": daily_sequences.c.value + 1},
            )
            .returning(daily_sequences.c.value)
        )
        with self._engine.begin() as connection:
            return int(connection.execute(statement).scalar_one())
