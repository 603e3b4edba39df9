"""A `pipeyard run` killed mid-run leaves its run RUNNING; the next one settles it."""

# No `from __future__ import annotations`: kfp reads component annotations at decoration time.

import os
import socket
import subprocess
import sys
from pathlib import Path

from kfp import compiler, dsl

from pipeyard.cli.local_claims import local_worker_id, settle_abandoned_local_runs
from pipeyard.ir.loader import load_pipeline_file
from pipeyard.store import open_store
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
