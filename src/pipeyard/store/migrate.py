"""Bring a database to the newest schema with Alembic, programmatically.

Several processes may open the same database at once (a server and a CLI, or many
workers), so the upgrade runs inside one exclusive transaction: ``BEGIN IMMEDIATE``
on SQLite, a transaction-scoped advisory lock on PostgreSQL. The second opener then
finds the schema already at head and does nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa

from pipeyard.store.db import write_transaction

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# The newest migration's revision. Opening an up-to-date database compares against
# it without importing Alembic (a noticeable part of every CLI start); a unit test
# checks that it matches Alembic's head.
HEAD_REVISION = "0003"
# Any constant works; it only has to be the same in every pipeyard process.
_PG_MIGRATION_LOCK = 0x70697065  # "pipe"


def alembic_config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def head_revision() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: sa.Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def _recorded_revision(engine: sa.Engine) -> str | None:
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
    except sa.exc.DBAPIError:
        return None  # a new database: no version table yet


def upgrade_to_head(engine: sa.Engine) -> None:
    # Opening an up-to-date database should not queue behind writers for the lock.
    if _recorded_revision(engine) == HEAD_REVISION:
        return
    from alembic import command

    config = alembic_config()
    with write_transaction(engine) as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK})
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
