"""SQLite specifics: the file, its pragmas, migrations, and threads sharing a store."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from pipeyard.entities import ListQuery, Run
from pipeyard.errors import InvalidArgument
from pipeyard.store import open_store
from pipeyard.store.migrate import current_revision, head_revision
from pipeyard.store.schema import metadata

T0 = datetime(2024, 1, 1, tzinfo=timezone.utc)


def run(i: int) -> Run:
    return Run(f"run-{i:05d}", f"run {i}", {}, "PENDING", T0 + timedelta(seconds=i))


def test_open_creates_the_directory_and_sets_pragmas(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "pipeyard.db"
    with open_store(f"sqlite:///{path}") as store, store.engine.connect() as conn:
        assert path.exists()
        pragma = {
            name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
            for name in ("journal_mode", "foreign_keys", "busy_timeout")
        }
    assert pragma == {"journal_mode": "wal", "foreign_keys": 1, "busy_timeout": 30000}


def test_migrations_create_exactly_the_schema_the_code_queries(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    with open_store(url) as store:
        assert current_revision(store.engine) == head_revision()
        with store.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)
        assert diff == []
        store.create_run(run(1))
    # Reopening an up-to-date database keeps its rows.
    with open_store(url) as store:
        assert store.get_run("run-00001") == run(1)


def test_concurrent_first_opens_migrate_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def opener() -> None:
        try:
            barrier.wait()
            open_store(url).close()
        except BaseException as e:  # reported below
            errors.append(e)

    threads = [threading.Thread(target=opener) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    engine = sa.create_engine(url)
    assert current_revision(engine) == head_revision()
    engine.dispose()


def test_threads_share_one_store(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            for i in range(25):
                store.create_run(run(n * 100 + i))
                store.update_run(f"run-{n * 100 + i:05d}", state="RUNNING")
                store.list_runs(ListQuery(page_size=5))
        except BaseException as e:  # reported below
            errors.append(e)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert errors == []
        page = store.list_runs(ListQuery(page_size=1000))
        assert page.total_size == 150 and {r.state for r in page.items} == {"RUNNING"}
    finally:
        store.close()


def test_in_memory_database(tmp_path: Path) -> None:
    with open_store("sqlite://") as store:
        store.create_run(run(1))
        assert store.get_run("run-00001").display_name == "run 1"


@pytest.mark.parametrize("url", ["mysql://x@localhost/db", "not a url"])
def test_unsupported_urls_are_rejected(url: str) -> None:
    with pytest.raises(InvalidArgument) as err:
        open_store(url)
    assert err.value.field == "database_url"
