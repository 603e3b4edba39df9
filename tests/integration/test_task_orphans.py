"""A task and everything it started die with the process that launched it.

SIGKILL leaves no chance to clean up: `pipeyard run` (or the server) is killed while a
container component's shell has a background grandchild running; both must be gone
soon after, instead of running on reparented to init.
"""

# No `from __future__ import annotations`: kfp reads component signatures at decoration time.

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from kfp import compiler, dsl
from tests.support.processes import gone

DEADLINE_SECONDS = 120.0


@dsl.container_component
def lingering(pid_file: str) -> dsl.ContainerSpec:
    return dsl.ContainerSpec(
        image="busybox",
        command=["sh", "-c", 'sleep 600 & echo "$$ $!" > "$0.tmp" && mv "$0.tmp" "$0"; wait', pid_file],
    )


@dsl.pipeline(name="lingering")
def lingering_pipeline(pid_file: str) -> None:
    lingering(pid_file=pid_file).set_caching_options(False)


def _wait_for(predicate: Any, what: str) -> None:
    deadline = time.monotonic() + DEADLINE_SECONDS
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def _task_pids(pid_file: Path) -> list[int]:
    _wait_for(pid_file.exists, "the task to start")
    pids = [int(p) for p in pid_file.read_text().split()]
    assert len(pids) == 2 and all(not gone(p) for p in pids), pids
    return pids


def test_killing_pipeyard_run_kills_the_task_and_its_children(tmp_path: Path) -> None:
    spec = tmp_path / "p.yaml"
    compiler.Compiler().compile(lingering_pipeline, str(spec))
    pid_file = tmp_path / "pids"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIPEYARD_")}
    env["PIPEYARD_HOME"] = str(tmp_path / "home")
    cli = Path(sys.executable).with_name("pipeyard")
    proc = subprocess.Popen(
        [str(cli), "run", str(spec), "--arg", f"pid_file={pid_file}"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        leader, grandchild = _task_pids(pid_file)
        os.kill(proc.pid, signal.SIGKILL)  # the CLI process only, as a crash would
        proc.wait(30)
        _wait_for(lambda: gone(leader) and gone(grandchild), "the task's processes to die")
    finally:
        if proc.poll() is None:
            proc.kill()


def test_killing_the_server_kills_its_tasks(start_server: Any, tmp_path: Path, run_waiter: Any) -> None:
    srv = start_server()
    pid_file = tmp_path / "pids"
    client = srv.client()
    client.create_run_from_pipeline_func(lingering_pipeline, arguments={"pid_file": str(pid_file)})
    leader, grandchild = _task_pids(pid_file)
    assert srv.kill() == -9
    _wait_for(lambda: gone(leader) and gone(grandchild), "the task's processes to die")
