"""A `pipeyard run` killed mid-run leaves its run RUNNING; whoever looks next settles it."""

# No `from __future__ import annotations`: kfp reads component annotations at decoration time.

import os
import socket
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

from kfp import compiler, dsl

from pipeyard.ir.loader import load_pipeline_file
from pipeyard.store import open_store
from pipeyard.submission.local_claims import LOCAL_LEASE_SECONDS, local_worker_id, settle_abandoned_local_runs
from pipeyard.submission.runs import create_run


@dsl.component
def noop() -> None:
    pass


@dsl.pipeline(name="abandoned")
def abandoned_pipeline() -> None:
    noop()


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_runs_of_dead_cli_processes_end_failed_and_live_ones_are_left(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    compiler.Compiler().compile(abandoned_pipeline, str(path))
    loaded = load_pipeline_file(path)
    with open_store(f"sqlite:///{tmp_path / 'db.sqlite'}") as store:
        dead_pid = _dead_pid()
        orphan = create_run(store, loaded, {}, pipeline_root=str(tmp_path), enable_caching=None,
                            local_worker=f"cli:{socket.gethostname()}:{dead_pid}")
        mine = create_run(store, loaded, {}, pipeline_root=str(tmp_path), enable_caching=None,
                          local_worker=local_worker_id())
        elsewhere = create_run(store, loaded, {}, pipeline_root=str(tmp_path), enable_caching=None,
                               local_worker=f"cli:another-host:{dead_pid}")
        assert settle_abandoned_local_runs(store) == [orphan.run_id]
        settled = store.get_run(orphan.run_id)
        assert settled.state == "FAILED" and settled.finished_at is not None
        assert f"pid {dead_pid}" in (settled.error or "")
        assert store.get_run(mine.run_id).state == "RUNNING"
        # Another machine's process cannot be checked from here: left alone.
        assert store.get_run(elsewhere.run_id).state == "RUNNING"
        assert os.getpid() != dead_pid


def test_a_lapsed_lease_settles_runs_of_other_machines_and_closes_their_tasks(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    compiler.Compiler().compile(abandoned_pipeline, str(path))
    loaded = load_pipeline_file(path)
    with open_store(f"sqlite:///{tmp_path / 'db.sqlite'}") as store:
        run = create_run(store, loaded, {}, pipeline_root=str(tmp_path), enable_caching=None,
                         local_worker="cli:another-host:4242")
        # A task the killed process was running, with its open attempt.
        from pipeyard.entities import Task, TaskAttempt

        now = datetime.now(timezone.utc)
        task = Task(task_id="t1", run_id=run.run_id, name="noop", path="noop", display_name="noop",
                    kind="CONTAINER", state="RUNNING", created_at=now, started_at=now)
        store.put_task(task)
        store.put_attempt(TaskAttempt(task_id="t1", attempt=1, state="RUNNING", started_at=now,
                                      log_path=str(tmp_path / "log")))
        # A server must not resume it behind the user's back, even once its lease lapsed.
        later = now + timedelta(seconds=LOCAL_LEASE_SECONDS + 5)
        assert store.claim_run("server-worker", 10.0, later) is None
        assert settle_abandoned_local_runs(store, now=now) == []  # lease still held
        assert settle_abandoned_local_runs(store, now=later) == [run.run_id]
        settled = store.get_run(run.run_id)
        assert settled.state == "FAILED" and "pid 4242" in (settled.error or "")
        (closed,) = store.list_tasks(run.run_id)
        assert closed.state == "FAILED" and (closed.error or "").startswith("interrupted:")
        (attempt,) = store.list_attempts("t1")
        assert attempt.state == "FAILED" and attempt.finished_at is not None
        assert (attempt.error or "").startswith("interrupted:")
