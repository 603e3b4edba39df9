"""set_retry (attempts, their logs, backoff) and Ctrl-C on `pipeyard run`."""

# No `from __future__ import annotations`: kfp reads component signatures at runtime.
import asyncio
import json
import signal
import subprocess
import time
from pathlib import Path

import pytest
import yaml
from kfp import dsl
from tests.support.pipeline_runs import (
    CLI_DEADLINE_SECONDS,
    PIPEYARD,
    EngineHarness,
    cli_env,
    compile_pipeline,
    engine_fixture,
    run_cli,
)
from tests.support.processes import gone, killed

from pipeyard.ir.loader import load_pipeline_file
from pipeyard.ir.views import build_view

engine = pytest.fixture(scope="module")(engine_fixture)


@dsl.component
def flaky(counter: str, succeed_on: int) -> str:
    import os

    n = (int(open(counter).read()) if os.path.exists(counter) else 0) + 1  # noqa: SIM115
    with open(counter, "w") as f:
        f.write(str(n))
    print(f"this is attempt {n}")
    if n < succeed_on:
        raise RuntimeError(f"failing on attempt {n}")
    return f"done on {n}"


@dsl.pipeline(name="retries")
def retries(counter: str, succeed_on: int) -> str:
    return flaky(counter=counter, succeed_on=succeed_on).set_retry(
        num_retries=2, backoff_duration="1s", backoff_factor=3, backoff_max_duration="3h"
    ).output


@pytest.fixture(scope="module")
def retries_yaml(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return compile_pipeline(retries, tmp_path_factory.mktemp("r") / "retries.yaml")


class RecordingSleep:
    """The run's sleep: records the delays the engine asks for between attempts,
    without waiting them out (only this run's sleep: asyncio is not patched)."""

    def __init__(self) -> None:
        self.asked: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.asked.append(delay)
        await asyncio.sleep(0)


@pytest.fixture
def backoffs() -> RecordingSleep:
    return RecordingSleep()


def test_retries_until_success_with_each_attempt_recorded(engine: EngineHarness, retries_yaml: Path,
                                                          tmp_path: Path, backoffs: RecordingSleep) -> None:
    r = engine.run(retries_yaml, {"counter": str(tmp_path / "n"), "succeed_on": 3}, sleep=backoffs)
    assert r.state == "SUCCEEDED", r.run.error
    assert r.run.outputs["Output"] == "done on 3"
    task = r.one("flaky")
    assert task.attempts == 3 and task.state == "SUCCEEDED"
    attempts = r.attempts(task)
    assert [(a.attempt, a.state) for a in attempts] == [(1, "FAILED"), (2, "FAILED"), (3, "SUCCEEDED")]
    # Each attempt has a log of its own.
    assert len({a.log_path for a in attempts}) == 3
    for k in (1, 2, 3):
        log = r.log(task, k)
        assert f"this is attempt {k}" in log
        assert all(f"this is attempt {j}" not in log for j in (1, 2, 3) if j != k)
    assert "failing on attempt 1" in r.log(task, 1)
    # backoff 1s, factor 3; the 3 h budget (more than KFP's old 1 h cap) is not reached.
    assert backoffs.asked == [1.0, 3.0]
    assert r.json()["tasks"][0]["attempts"] == 3


def test_retries_exhausted_fail_the_run(engine: EngineHarness, retries_yaml: Path, tmp_path: Path,
                                        backoffs: RecordingSleep) -> None:
    r = engine.run(retries_yaml, {"counter": str(tmp_path / "n"), "succeed_on": 10}, sleep=backoffs)
    assert r.state == "FAILED"
    task = r.one("flaky")
    assert task.attempts == 3 and task.state == "FAILED"
    assert [a.state for a in r.attempts(task)] == ["FAILED"] * 3
    assert "failing on attempt 3" in (r.run.error or "")


def test_retry_policy_is_read_from_the_compiled_spec(retries_yaml: Path) -> None:
    loaded = load_pipeline_file(retries_yaml)
    view = build_view(loaded.spec, loaded.platform_spec)
    assert view.root.dag is not None
    policy = view.root.dag.tasks["flaky"].retry
    assert policy is not None and policy.max_retries == 2
    assert [policy.delay(k) for k in (1, 2, 3)] == [1.0, 3.0, 9.0]
    assert policy.backoff_max_seconds == 3 * 3600.0
    doc = yaml.safe_load(retries_yaml.read_text())
    assert doc["root"]["dag"]["tasks"]["flaky"]["retryPolicy"]["backoffDuration"] == "1s"


# ---------------------------------------------------------------- Ctrl-C


@dsl.component
def spawn_and_sleep(pid_dir: str) -> str:
    import os
    import subprocess
    import time

    child = subprocess.Popen(["sleep", "300"])
    with open(os.path.join(pid_dir, "pids.tmp"), "w") as f:
        f.write(f"{os.getpid()} {child.pid}")
    os.rename(os.path.join(pid_dir, "pids.tmp"), os.path.join(pid_dir, "pids"))
    time.sleep(300)
    return "not reached"


@dsl.pipeline(name="sleeper")
def sleeper(pid_dir: str) -> None:
    spawn_and_sleep(pid_dir=pid_dir)


def _wait_for(predicate: object, what: str, deadline_s: float = CLI_DEADLINE_SECONDS) -> None:
    # A guard against hanging, not a timing assertion.
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise AssertionError(f"gave up waiting for {what}")


def test_ctrl_c_cancels_the_run_and_kills_task_processes(tmp_path: Path) -> None:
    spec = compile_pipeline(sleeper, tmp_path / "sleeper.yaml")
    home, pid_dir = tmp_path / "home", tmp_path / "pids"
    pid_dir.mkdir()
    proc = subprocess.Popen([str(PIPEYARD), "run", str(spec), "--arg", f"pid_dir={pid_dir}"],
                            env=cli_env(home), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _wait_for(lambda: (pid_dir / "pids").exists() or proc.poll() is not None, "the task to start")
        assert proc.poll() is None, proc.communicate()
        task_pid, child_pid = map(int, (pid_dir / "pids").read_text().split())
        assert not gone(task_pid) and not gone(child_pid)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=CLI_DEADLINE_SECONDS)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 1, out + err
    # Killed (dead, or signalled and dying) before the CLI exited, not later by luck.
    assert killed(task_pid) and killed(child_pid), (out + err)
    _wait_for(lambda: gone(task_pid) and gone(child_pid), "task processes to end")
    listed = run_cli(home, "runs", "list", "--json")
    runs = json.loads(listed.stdout)
    assert len(runs) == 1
    shown = run_cli(home, "runs", "show", runs[0]["run_id"], "--json")
    doc = json.loads(shown.stdout)
    assert doc["state"] == "CANCELED"
    task = next(t for t in doc["tasks"] if t["name"] == "spawn-and-sleep")
    assert task["state"] == "CANCELED"
