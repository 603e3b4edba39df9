"""A local task's environment: the host's (less secrets), the task's own variables, and the
interpreter's shims first on PATH, also when the task sets PATH itself; built once per
interpreter, but never older than os.environ."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeyard.launchers.base import LaunchRequest
from pipeyard.launchers.local import LocalLauncher
from pipeyard.launchers.shims import shim_dir


def _request(**env: str) -> LaunchRequest:
    return LaunchRequest(key="run/task/0", argv=("true",), log_path="unused.log", env=env)


def test_the_task_environment_follows_the_host_and_keeps_the_shims_first(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    launcher = LocalLauncher(envs_dir=tmp_path)
    shims = str(shim_dir(tmp_path, "/usr/bin/python3"))
    monkeypatch.setenv("PATH", "/usr/bin")
    monkeypatch.setenv("PIPEYARD_TEST_HOST", "1")
    monkeypatch.setenv("PIPEYARD_AUTH_TOKEN", "secret")
    env = launcher._env(_request(TASK="a"), "/usr/bin/python3")
    assert env["PATH"] == f"{shims}:/usr/bin" and env["TASK"] == "a" and env["PIPEYARD_TEST_HOST"] == "1"
    assert "PIPEYARD_AUTH_TOKEN" not in env
    env["TASK"] = "changed by the caller"
    assert launcher._env(_request(TASK="b"), "/usr/bin/python3")["TASK"] == "b"
    assert launcher._env(_request(PATH="/opt/bin"), "/usr/bin/python3")["PATH"] == f"{shims}:/opt/bin"
    monkeypatch.setenv("PIPEYARD_TEST_HOST", "2")
    monkeypatch.delenv("PATH")
    env = launcher._env(_request(), "/usr/bin/python3")
    assert env["PIPEYARD_TEST_HOST"] == "2" and env["PATH"].startswith(f"{shims}:") and "TASK" not in env
