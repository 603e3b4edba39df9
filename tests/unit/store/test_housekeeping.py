"""The narrow reads of ``pipeyard run``'s housekeeping find exactly the runs that
``list_runs`` with the same conditions would, in one statement each."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import event

from pipeyard.entities import Run
from pipeyard.store import Store, open_store
from pipeyard.store.housekeeping import ClaimedRun, FinishedRun

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
PLATFORM = {"platforms": {"kubernetes": {"pipelineConfig": {"resourceTtlOnCompletion": 60}}}}


def _run(store: Store, run_id: str, state: str, **fields: Any) -> None:
    store.create_run(Run(run_id=run_id, display_name=run_id, pipeline_spec={"big": "x" * 100}, state=state,  # type: ignore[arg-type]
                         created_at=T0, **fields))


def _statements(store: Store) -> list[str]:
    seen: list[str] = []
    event.listen(store.engine, "before_cursor_execute", lambda _c, _k, statement, *_: seen.append(statement))
    return seen


def test_claimed_runs_match_the_prefix_exactly_in_the_given_states(tmp_path: Path) -> None:
    lease = T0 + timedelta(seconds=10)
    with open_store(f"sqlite:///{tmp_path / 'db.sqlite'}") as store:
        _run(store, "mine", "RUNNING", worker_id="cli:host:12", lease_expires_at=lease)
        _run(store, "pending", "PENDING", worker_id="cli:host:13")
        _run(store, "finished", "SUCCEEDED", worker_id="cli:host:14")
        _run(store, "upper", "RUNNING", worker_id="CLI:host:15")  # SQLite's LIKE would match it
        _run(store, "server", "RUNNING", worker_id="server:host:16")
        _run(store, "inside", "RUNNING", worker_id="x-cli:host:17")
        _run(store, "escaped", "RUNNING", worker_id="clix:host:18")
        _run(store, "unclaimed", "RUNNING")
        seen = _statements(store)
        found = store.claimed_runs(("RUNNING", "PENDING"), "cli:")
        assert sorted(found, key=lambda r: r.run_id) == [
            ClaimedRun("mine", "cli:host:12", lease), ClaimedRun("pending", "cli:host:13", None)]
        # A prefix with LIKE's wildcards in it matches them literally.
        assert store.claimed_runs(("RUNNING",), "cli_") == []
        assert len([s for s in seen if s.lstrip().upper().startswith("SELECT")]) == 2


def test_finished_runs_among_are_the_finished_ones_with_a_platform_spec_in_order(tmp_path: Path) -> None:
    with open_store(f"sqlite:///{tmp_path / 'db.sqlite'}") as store:
        ids = [f"run-{i:04d}" for i in range(510)]
        for i, run_id in enumerate(ids):
            state = "RUNNING" if i % 3 == 0 else "FAILED"
            _run(store, run_id, state, finished_at=T0, platform_spec=PLATFORM if i % 2 else None)
        wanted = [r for i, r in enumerate(ids) if i % 3 and i % 2]
        asked = list(reversed(ids)) + ["missing"]
        seen = _statements(store)
        found = store.finished_runs_among(asked)
        assert [r.run_id for r in found] == list(reversed(wanted))
        assert found[0] == FinishedRun(wanted[-1], "FAILED", T0, PLATFORM)
        # 511 ids in two statements of at most 500, not one per run.
        assert len([s for s in seen if s.lstrip().upper().startswith("SELECT")]) == 2
        assert store.finished_runs_among([]) == []
