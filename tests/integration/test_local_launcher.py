from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest
from tests.support.launcher_components import add, count_imports, fail, spawn_and_hang
from tests.support.launcher_kfp_tasks import compile_component, executor_output, python_request
from tests.support.processes import killed

from pipeyard.launchers import LocalLauncher
from pipeyard.launchers.base import LaunchRequest, LaunchResult


def run(launcher: LocalLauncher, request: LaunchRequest) -> LaunchResult:
    return asyncio.run(_run_and_close(launcher, request))


async def _run_and_close(launcher: LocalLauncher, request: LaunchRequest) -> LaunchResult:
    try:
        return await launcher.launch(request)
    finally:
        await launcher.aclose()


@pytest.fixture(params=[True, False], ids=["forkserver", "subprocess"])
def launcher(request: pytest.FixtureRequest, tmp_path: Path) -> LocalLauncher:
    return LocalLauncher(envs_dir=tmp_path / "envs", fork_server=request.param)


def test_lightweight_component_runs_and_writes_outputs(launcher: LocalLauncher, tmp_path: Path) -> None:
    compiled = compile_component(add, tmp_path, a=1, b=2, out_path="x")
    lines: list[str] = []
    target = tmp_path / "sum.txt"
    request = python_request(
        compiled, tmp_path, {"a": 40, "b": 2, "out_path": str(target)}, on_output=lines.append
    )
    result = run(launcher, request)
    assert result == LaunchResult(exit_code=0)
    assert target.read_text() == "42"
    assert executor_output(tmp_path)["parameterValues"] == {"Output": 42}
    log = Path(request.log_path).read_text()
    assert "sum is 42" in log
    assert "sum is 42" in lines
    # KFP's bootstrap never ran, and without packages_to_install no venv was made.
    assert "pip install" not in log
    assert not list((tmp_path / "envs").glob("venv-*"))


def test_component_exception_fails_with_traceback(launcher: LocalLauncher, tmp_path: Path) -> None:
    compiled = compile_component(fail, tmp_path, message="x")
    request = python_request(compiled, tmp_path, {"message": "boom from user code"})
    result = run(launcher, request)
    assert result.exit_code == 1 and not result.succeeded
    log = Path(request.log_path).read_text()
    assert "ValueError: boom from user code" in log
    assert "Traceback" in log


def test_each_task_gets_fresh_global_state(launcher: LocalLauncher, tmp_path: Path) -> None:
    compiled = compile_component(count_imports, tmp_path, marker="m")

    async def both() -> list[LaunchResult]:
        try:
            return list(
                await asyncio.gather(
                    *(
                        launcher.launch(python_request(compiled, tmp_path / str(i), {"marker": f"task{i}"}))
                        for i in range(4)
                    )
                )
            )
        finally:
            await launcher.aclose()

    results = asyncio.run(both())
    assert all(r.exit_code == 0 for r in results)
    for i in range(4):
        assert executor_output(tmp_path / str(i))["parameterValues"] == {"Output": 1}
        assert f"task{i} 1" in (tmp_path / str(i) / "logs" / "task.log").read_text()


def test_cancel_python_task_kills_grandchildren(launcher: LocalLauncher, tmp_path: Path) -> None:
    compiled = compile_component(spawn_and_hang, tmp_path, pid_file="x")

    async def scenario() -> int:
        started: asyncio.Queue[int] = asyncio.Queue()

        def on_output(line: str) -> None:
            if line.startswith("grandchild "):
                started.put_nowait(int(line.split()[1]))

        request = python_request(compiled, tmp_path, {"pid_file": "unused"}, on_output=on_output)
        task = asyncio.create_task(launcher.launch(request))
        try:
            grandchild = await started.get()
            assert not killed(grandchild)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            return grandchild
        finally:
            await launcher.aclose()

    grandchild = asyncio.run(scenario())
    assert killed(grandchild)


def test_timeout_kills_python_task(launcher: LocalLauncher, tmp_path: Path) -> None:
    compiled = compile_component(spawn_and_hang, tmp_path, pid_file="x")
    pids: list[int] = []

    def on_output(line: str) -> None:
        if line.startswith("grandchild "):
            pids.append(int(line.split()[1]))

    request = python_request(
        compiled, tmp_path, {"pid_file": "unused"}, timeout_seconds=1.5, on_output=on_output
    )
    result = run(launcher, request)
    assert result.timed_out and not result.succeeded
    assert pids and killed(pids[0])
    assert "timed out" in Path(request.log_path).read_text()


def test_plain_command_env_cwd_and_output(tmp_path: Path) -> None:
    launcher = LocalLauncher(envs_dir=tmp_path / "envs")
    lines: list[str] = []
    workdir = tmp_path / "work"
    workdir.mkdir()
    request = LaunchRequest(
        key="r/t/0",
        argv=("sh", "-c", 'echo "greeting=$GREETING"; pwd; echo oops >&2; exit 3'),
        log_path=str(tmp_path / "deep" / "logs" / "t.log"),
        env={"GREETING": "hello"},
        cwd=str(workdir),
        on_output=lines.append,
    )
    result = run(launcher, request)
    assert result == LaunchResult(exit_code=3)
    assert lines == ["greeting=hello", str(workdir), "oops"]
    assert Path(request.log_path).read_text() == f"greeting=hello\n{workdir}\noops\n"


def test_python_on_path_is_the_task_interpreter(tmp_path: Path) -> None:
    launcher = LocalLauncher(envs_dir=tmp_path / "envs")
    out = tmp_path / "exe.txt"
    code = f"import sys, kfp; open({str(out)!r}, 'w').write(sys.prefix)"
    for name in ("python", "python3"):
        result = run(launcher, LaunchRequest(key="k", argv=(name, "-c", code), log_path=str(tmp_path / "l")))
        assert result.exit_code == 0, Path(tmp_path / "l").read_text()
        assert out.read_text() == sys.prefix


def test_missing_executable_is_an_error_not_an_exception(tmp_path: Path) -> None:
    launcher = LocalLauncher(envs_dir=tmp_path / "envs")
    request = LaunchRequest(key="k", argv=("no-such-program-xyz", "--flag"), log_path=str(tmp_path / "l"))
    result = run(launcher, request)
    assert result.exit_code is None
    assert result.error is not None and "no-such-program-xyz" in result.error
    assert "no-such-program-xyz" in Path(request.log_path).read_text()


def test_leftover_background_process_is_killed_when_task_exits(tmp_path: Path) -> None:
    launcher = LocalLauncher(envs_dir=tmp_path / "envs")
    request = LaunchRequest(key="k", argv=("sh", "-c", "sleep 1000 & echo $!"), log_path=str(tmp_path / "l"))
    result = run(launcher, request)
    assert result.exit_code == 0
    assert killed(int(Path(request.log_path).read_text().strip()))


def test_cancel_plain_command_kills_group(tmp_path: Path) -> None:
    launcher = LocalLauncher(envs_dir=tmp_path / "envs")

    async def scenario() -> int:
        started: asyncio.Queue[int] = asyncio.Queue()
        request = LaunchRequest(
            key="k",
            argv=("sh", "-c", "sleep 1000 & echo $!; wait"),
            log_path=str(tmp_path / "l"),
            on_output=lambda line: started.put_nowait(int(line)),
        )
        task = asyncio.create_task(launcher.launch(request))
        grandchild = await started.get()
        assert not killed(grandchild), "the background process was not running before the cancel"
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return grandchild

    # Dead, or SIGKILLed and dying, by the time the cancelled launch returned.
    assert killed(asyncio.run(scenario()))


def test_requests_larger_than_the_machine_fail_at_once(tmp_path: Path) -> None:
    launcher = LocalLauncher(envs_dir=tmp_path / "envs")
    cpus = os.cpu_count() or 1
    result = run(launcher, LaunchRequest(key="k", argv=("true",), log_path=str(tmp_path / "l"), cpu=cpus + 1))
    assert result.exit_code is None
    assert result.error == f"task requests {cpus + 1} CPUs but this machine has {cpus}"
    huge = 1 << 60
    result = run(
        launcher, LaunchRequest(key="k", argv=("true",), log_path=str(tmp_path / "l"), memory_bytes=huge)
    )
    assert result.error is not None and f"task requests {huge} bytes of memory" in result.error


def test_fork_server_env_switch(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PIPEYARD_FORK_SERVER", "0")
    assert LocalLauncher(envs_dir=tmp_path).fork_server is False
    monkeypatch.setenv("PIPEYARD_FORK_SERVER", "1")
    assert LocalLauncher(envs_dir=tmp_path).fork_server is True
    assert LocalLauncher(envs_dir=tmp_path, fork_server=False).fork_server is False


def test_fork_server_really_forks(launcher: LocalLauncher, tmp_path: Path) -> None:
    from tests.support.launcher_components import report_parent

    compiled = compile_component(report_parent, tmp_path)
    result = run(launcher, python_request(compiled, tmp_path, {}))
    assert result.exit_code == 0
    parent = executor_output(tmp_path)["parameterValues"]["Output"]
    # A subprocess is our child; a forked task is the fork server's child.
    assert (parent != os.getpid()) is launcher.fork_server
