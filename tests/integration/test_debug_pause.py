"""set_debug_pause: a task held before/after running with its working directory
kept, shown PAUSED, until `pipeyard resume` (or the API) lets it go on."""

# No `from __future__ import annotations`: kfp reads component signatures at runtime.
import json
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from kfp import dsl
from tests.integration.conftest import ServerFactory
from tests.support.pipeline_runs import CLI_DEADLINE_SECONDS, PIPEYARD, cli_env, compile_pipeline, run_cli

from pipeyard.config import Settings
from pipeyard.entities import Task
from pipeyard.store import Store, open_store


@dsl.component
def leave_files(marker: str) -> str:
    import os

    with open("scratch.txt", "w") as f:  # in the task's working directory
        f.write("left by the task")
    with open(marker, "w") as f:
        f.write(os.environ.get("PAUSE_PROBE", ""))
    return "ran"


@dsl.component
def boom() -> None:
    with open("evidence.txt", "w") as f:
        f.write("what went wrong")
    raise RuntimeError("boom")


@dsl.component
def fine() -> str:
    return "fine"


@dsl.pipeline(name="pause-before-after")
def before_and_after(marker: str) -> str:
    t = leave_files(marker=marker).set_debug_pause(before=True, after=True)
    t.set_env_variable("PAUSE_PROBE", "probe-value")
    return t.output


@dsl.pipeline(name="pause-on-error")
def on_error() -> None:
    fine().set_debug_pause(on_error=True)
    boom().set_debug_pause(on_error=True)


def _wait(predicate: Callable[[], object], what: str) -> None:
    # A guard against hanging, not a timing assertion.
    deadline = time.monotonic() + CLI_DEADLINE_SECONDS
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"gave up waiting for {what}")


@pytest.fixture
def home(tmp_path: Path) -> Iterator[tuple[Path, Store]]:
    home = tmp_path / "home"
    settings = Settings.from_env({"PIPEYARD_HOME": str(home)})
    settings.ensure_dirs()
    store = open_store(settings.database_url)
    try:
        yield home, store
    finally:
        store.close()


def _task(store: Store, name: str) -> Task | None:
    runs = store.list_runs().items
    if not runs:
        return None
    return next((t for t in store.list_tasks(runs[0].run_id) if t.name == name), None)


def _paused(store: Store, name: str, when: str) -> Task | None:
    t = _task(store, name)
    info = (t.details or {}).get("debug_pause") if t else None
    if t is not None and t.state == "RUNNING" and info and info["when"] == when and "resumed_at" not in info:
        return t
    return None


def test_pause_before_and_after_until_resumed_from_the_cli(home: tuple[Path, Store], tmp_path: Path) -> None:
    home_dir, store = home
    spec = compile_pipeline(before_and_after, tmp_path / "p.yaml")
    marker = tmp_path / "marker"
    proc = subprocess.Popen([str(PIPEYARD), "run", str(spec), "--arg", f"marker={marker}", "--json"],
                            env=cli_env(home_dir), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _wait(lambda: _paused(store, "leave-files", "before") or proc.poll() is not None, "the pause before")
        assert proc.poll() is None, proc.communicate()
        task = _paused(store, "leave-files", "before")
        assert task is not None
        run_id = task.run_id
        assert not marker.exists()  # held before its process started
        work = Path(task.details["debug_pause"]["work_dir"])
        debug = json.loads((work / "pipeyard-debug.json").read_text())
        assert debug["env"]["PAUSE_PROBE"] == "probe-value" and debug["cwd"] == str(work)
        assert any("executor_main" in a or "--executor_input" in a for a in debug["argv"])
        shown = json.loads(run_cli(home_dir, "runs", "show", run_id, "--json").stdout)
        assert [t["state"] for t in shown["tasks"] if t["name"] == "leave-files"] == ["PAUSED"]

        resumed = run_cli(home_dir, "resume", run_id, "leave-files")
        assert resumed.returncode == 0, resumed.stderr
        _wait(lambda: _paused(store, "leave-files", "after") or proc.poll() is not None, "the pause after")
        assert proc.poll() is None, proc.communicate()
        # It ran; what it left in its working directory is still there.
        assert marker.read_text() == "probe-value"
        assert (work / "scratch.txt").read_text() == "left by the task"
        assert run_cli(home_dir, "resume", run_id, "leave-files").returncode == 0
        out, err = proc.communicate(timeout=CLI_DEADLINE_SECONDS)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    doc = json.loads(out)
    assert doc["state"] == "SUCCEEDED" and doc["outputs"]["Output"] == "ran"
    log = run_cli(home_dir, "logs", run_id, "leave-files").stdout
    assert "debug pause before running" in log and "resumed after the debug pause after" in log
    # Resuming a task that is not paused says so.
    again = run_cli(home_dir, "resume", run_id, "leave-files")
    assert again.returncode != 0 and "is not paused" in again.stderr


def test_pause_on_error_holds_only_the_failed_task_and_resumes_through_the_api(
        start_server: ServerFactory, tmp_path: Path) -> None:
    server = start_server()
    spec = compile_pipeline(on_error, tmp_path / "e.yaml")
    import kfp

    client = kfp.Client(host=server.url)
    run_id = client.create_run_from_pipeline_package(str(spec), arguments={}).run_id

    def tasks() -> list[dict[str, object]]:
        r = httpx.get(f"{server.url}/apis/pipeyard/v1/runs/{run_id}/tasks", timeout=30)
        r.raise_for_status()
        return list(r.json()["tasks"])

    def boom_paused() -> dict[str, object] | None:
        for t in tasks():
            d = t.get("details") or {}
            if t["name"] == "boom" and t["state"] == "RUNNING" and "debug_pause" in d:  # type: ignore[operator]
                return t
        return None

    _wait(boom_paused, "the failed task to pause")
    paused = boom_paused()
    assert paused is not None
    work = Path(paused["details"]["debug_pause"]["work_dir"])  # type: ignore[index]
    assert (work / "evidence.txt").read_text() == "what went wrong"
    fine = next(t for t in tasks() if t["name"] == "fine")
    _wait(lambda: next(t for t in tasks() if t["name"] == "fine")["state"] == "SUCCEEDED", "fine to finish")
    assert "debug_pause" not in (fine.get("details") or {})  # type: ignore[operator]
    # Unknown tasks: 409 naming what is paused; then the real resume.
    wrong = httpx.post(f"{server.url}/apis/v2beta1/runs/{run_id}/tasks/nope:resume", timeout=30)
    assert wrong.status_code == 409 and "boom" in wrong.json()["error_message"]
    ok = httpx.post(f"{server.url}/apis/v2beta1/runs/{run_id}/tasks/{paused['task_id']}:resume", timeout=30)
    assert ok.status_code == 200, ok.text
    final = client.wait_for_run_completion(run_id, timeout=CLI_DEADLINE_SECONDS, sleep_duration=1)
    assert final.state == "FAILED"
    boom_task = next(t for t in tasks() if t["name"] == "boom")
    assert boom_task["state"] == "FAILED" and "exit code 1" in str(boom_task["error"])
