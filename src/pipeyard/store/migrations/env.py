"""Alembic environment for pipeyard's store.

``pipeyard.store.migrate.upgrade_to_head`` passes an open connection in
``config.attributes["connection"]``; developers generating a revision pass a URL
instead: ``alembic -c src/pipeyard/store/migrations/alembic.ini -x url=sqlite:///dev.db
revision --autogenerate -m "..."``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context

from pipeyard.store.schema import metadata

config = context.config


def _run(connection: sa.Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        # SQLite cannot ALTER most things; batch mode rebuilds the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option("sqlalchemy.url")
    if not url:
        raise SystemExit("pass the database with: alembic -x url=sqlite:///path ...")
    from pipeyard.store.db import create_db_engine

    engine = create_db_engine(url)
    try:
        with engine.connect() as conn:
            _run(conn)
            conn.commit()
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (SQL script) migrations are not supported")
run_migrations_online()
