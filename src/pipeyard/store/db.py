"""Connections and transactions: the base every part of the store builds on.

SQLite is opened in WAL mode with foreign keys on and a 30 s busy timeout, and
SQLAlchemy (not the ``sqlite3`` module) emits ``BEGIN``: reads use a deferred
transaction, writes ``BEGIN IMMEDIATE``. A deferred transaction that reads and then
writes fails with "database is locked" if another writer committed in between; taking
the write lock up front makes writers queue on the busy timeout instead.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.pool import StaticPool

from pipeyard.errors import FailedPrecondition, InvalidArgument, NotFound, PipeyardError

BUSY_TIMEOUT_SECONDS = 30
_BEGIN_OPTION = "pipeyard_begin"


def create_db_engine(database_url: str, *, echo: bool = False) -> sa.Engine:
    """An engine for a ``sqlite:///path`` or ``postgresql+psycopg://`` URL."""
    try:
        url = sa.make_url(database_url)
    except sa.exc.ArgumentError as e:
        raise InvalidArgument(f"not a database URL: {database_url!r}", field="database_url") from e
    backend = url.get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(url, echo=echo)
    if backend == "postgresql":
        return sa.create_engine(url, echo=echo, pool_pre_ping=True, future=True)
    raise InvalidArgument(
        f"unsupported database {backend!r}: use sqlite:///path or postgresql+psycopg://...",
        field="database_url",
    )


def _sqlite_engine(url: sa.URL, *, echo: bool) -> sa.Engine:
    database = url.database or ""
    in_memory = database in ("", ":memory:") or url.query.get("mode") == "memory"
    connect_args: dict[str, Any] = {"check_same_thread": False, "timeout": BUSY_TIMEOUT_SECONDS}
    if in_memory:
        # One shared connection, or every pooled connection would see its own empty database.
        engine = sa.create_engine(url, echo=echo, connect_args=connect_args, poolclass=StaticPool)
    else:
        path = Path(database).expanduser()
        path.parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url.set(database=str(path)), echo=echo, connect_args=connect_args)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Hand transaction control to SQLAlchemy's "begin" hook below.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_SECONDS * 1000}")
            cursor.execute("PRAGMA foreign_keys=ON")
            if not in_memory:
                _enable_wal(cursor)
                # WAL keeps committed data safe across process crashes with NORMAL.
                cursor.execute("PRAGMA synchronous=NORMAL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        mode = conn.get_execution_options().get(_BEGIN_OPTION, "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")

    return engine


def _enable_wal(cursor: Any) -> None:
    """Switch the file to WAL (a persistent setting, so usually already done).

    The switch needs an exclusive lock and SQLite reports "locked" at once instead of
    calling the busy handler when another connection is opening the same fresh file,
    so the retry that busy_timeout would do is done here.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT_SECONDS
    while True:
        try:
            if cursor.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as e:
            if "locked" not in str(e) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


@contextmanager
def write_transaction(engine: sa.Engine) -> Iterator[sa.Connection]:
    """One write transaction: committed on success, rolled back on any error."""
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            conn.execution_options(**{_BEGIN_OPTION: "IMMEDIATE"})
        with conn.begin():
            yield conn


class StoreBase:
    """Shared plumbing of the store's parts (see ``sql_store.Store``)."""

    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine
        self._dialect = engine.dialect.name
        self._upserts: dict[tuple[str, tuple[str, ...]], Any] = {}

    @property
    def engine(self) -> sa.Engine:
        return self._engine

    def close(self) -> None:
        self._engine.dispose()

    @contextmanager
    def _read(self) -> Iterator[sa.Connection]:
        with self._engine.connect() as conn, conn.begin():
            yield conn

    @contextmanager
    def _write(self, conflict: PipeyardError | None = None) -> Iterator[sa.Connection]:
        """A write transaction. A constraint violation becomes ``conflict`` when given
        (a unique name taken by a concurrent writer), else ``FailedPrecondition``."""
        try:
            with write_transaction(self._engine) as conn:
                yield conn
        except sa.exc.IntegrityError as e:
            if conflict is not None:
                raise conflict from e
            raise FailedPrecondition(f"database constraint violated: {e.orig}") from e

    def _insert(self) -> Any:
        # Imported here: the PostgreSQL dialect costs a SQLite user a tenth of SQLAlchemy's import.
        if self._dialect == "postgresql":
            from sqlalchemy.dialects import postgresql

            return postgresql.insert
        from sqlalchemy.dialects import sqlite

        return sqlite.insert

    def _upsert(
        self,
        conn: sa.Connection,
        table: sa.Table,
        rows: Sequence[Mapping[str, Any]],
        key: Sequence[str],
    ) -> None:
        """Insert rows, replacing every non-key column of rows whose key exists."""
        if not rows:
            return
        conn.execute(self._upsert_statement(table, tuple(key)), [dict(r) for r in rows])

    def _upsert_statement(self, table: sa.Table, key: tuple[str, ...]) -> Any:
        # Built once per table: building it (``excluded`` proxies every column) cost more
        # than executing it, several times per task state change.
        cached = self._upserts.get((table.name, key))
        if cached is None:
            stmt = self._insert()(table)
            cached = stmt.on_conflict_do_update(
                index_elements=list(key),
                set_={c.name: stmt.excluded[c.name] for c in table.columns if c.name not in key},
            )
            self._upserts[(table.name, key)] = cached
        return cached

    def _insert_ignore(self, conn: sa.Connection, table: sa.Table, rows: Sequence[Mapping[str, Any]]) -> None:
        if not rows:
            return
        conn.execute(self._insert()(table).on_conflict_do_nothing(), [dict(r) for r in rows])

    @staticmethod
    def _one(conn: sa.Connection, stmt: sa.Select[Any], kind: str, key: str) -> sa.RowMapping:
        row = conn.execute(stmt).mappings().first()
        if row is None:
            raise NotFound(kind, key)
        return row

    @staticmethod
    def _exists(conn: sa.Connection, table: sa.Table, column: str, value: Any) -> bool:
        stmt = sa.select(sa.literal(1)).select_from(table).where(table.c[column] == value).limit(1)
        return conn.execute(stmt).first() is not None
