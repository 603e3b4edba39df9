"""The TTL sweep that starts every ``pipeyard run`` reads a bounded number of statements
however many finished runs kept their work directories, and still releases exactly the
expired ones."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event

from pipeyard.config import Settings
from pipeyard.engine import ttl
from pipeyard.entities import Run
from pipeyard.store import Store, open_store

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
TTL = {"platforms": {"kubernetes": {"pipelineConfig": {"resourceTtlOnCompletion": 60}}}}


def _finished(store: Store, settings: Settings, i: int, platform_spec: dict[str, Any] | None) -> str:
    run = store.create_run(Run(run_id=f"run-{i:04d}", display_name=f"run {i}", pipeline_spec={"big": "x" * 1000},
                               state="SUCCEEDED", created_at=T0, finished_at=T0, platform_spec=platform_spec))
    ttl.work_root(settings, run.run_id).mkdir(parents=True)
    return run.run_id


def _statements_of_sweep(store: Store, settings: Settings, now: datetime) -> tuple[int, list[str]]:
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    event.listen(store.engine, "before_cursor_execute", count)
    try:
        released = ttl.sweep(store, settings, now)
    finally:
        event.remove(store.engine, "before_cursor_execute", count)
    return len(seen), released


def test_the_sweep_reads_in_bounded_statements_and_releases_only_expired_runs(tmp_path: Path) -> None:
    settings = Settings.from_env({"PIPEYARD_HOME": str(tmp_path)})
    with open_store(settings.database_url) as store:
        expiring = _finished(store, settings, 0, TTL)
        kept = [_finished(store, settings, i, None) for i in range(1, 5)]
        few, released = _statements_of_sweep(store, settings, T0 + timedelta(seconds=61))
        assert released == [expiring]
        assert not ttl.work_root(settings, expiring).exists()
        assert all(ttl.work_root(settings, run_id).is_dir() for run_id in kept)

        kept += [_finished(store, settings, i, None) for i in range(5, 150)]
        many, released = _statements_of_sweep(store, settings, T0 + timedelta(days=1))
        assert released == []
        # 149 kept runs take as many statements as 4 did, not one per run.
        assert many == few, (few, many)
        assert store.get_run(kept[-1]).state == "SUCCEEDED"
    assert sa.__version__  # the store really ran on SQLAlchemy (statements were counted)
