"""Upserting the engine's hot rows (tasks, attempts) on SQLite as driver SQL.

A finished task's result is one upsert of a 21-column row, and the engine writes one
per task. Through ``Connection.execute`` of the cached upsert statement, SQLAlchemy's
compile-cache lookup, parameter construction and result set-up cost as much as the
write itself. Here the statement's text is built once per table and dialect, and each
entity's values go through its columns' own bind processors (the very conversions
``execute`` applies: ``UtcDateTime``, JSON, booleans), then to the driver with
``exec_driver_sql``, so statement events and echo still see every statement.
Serializing at once also stands for ``to_row``'s copy of nested JSON: a caller's later
change to a dict cannot reach what was written.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect


class DriverUpsert:
    """``INSERT ... ON CONFLICT (key) DO UPDATE`` of whole rows of ``table``, for a dialect
    with the ``qmark`` parameter style (SQLite's)."""

    def __init__(self, table: sa.Table, key: Sequence[str], dialect: Dialect) -> None:
        if dialect.paramstyle != "qmark":
            raise ValueError(f"DriverUpsert needs the qmark parameter style, not {dialect.paramstyle!r}")
        quote = dialect.identifier_preparer.quote
        names = [c.name for c in table.columns]
        self._columns: list[tuple[str, Callable[[Any], Any] | None]] = [
            (c.name, c.type.bind_processor(dialect)) for c in table.columns
        ]
        updates = ", ".join(f"{quote(n)} = excluded.{quote(n)}" for n in names if n not in key)
        self.sql = (
            f"INSERT INTO {quote(table.name)} ({', '.join(quote(n) for n in names)}) "
            f"VALUES ({', '.join('?' for _ in names)}) "
            f"ON CONFLICT ({', '.join(quote(k) for k in key)}) DO UPDATE SET {updates}"
        )

    def params(self, entity: Any) -> tuple[Any, ...]:
        """The row of an entity whose fields are the table's columns, as the driver takes it."""
        values = []
        for name, process in self._columns:
            value = getattr(entity, name)
            values.append(value if process is None else process(value))
        return tuple(values)

    def execute(self, conn: sa.Connection, entities: Sequence[Any]) -> None:
        if entities:
            conn.exec_driver_sql(self.sql, [self.params(e) for e in entities])
