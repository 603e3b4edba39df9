"""One behavioural suite over every launcher variant (local, docker, Ray).

Each variant must run a real compiled KFP lightweight component, report exit
codes, honour timeouts, and leave no process behind when cancelled.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from tests.support.docker_variant import docker_variant  # noqa: E402
from tests.support.launcher_components import add, spawn_and_hang  # noqa: E402
from tests.support.launcher_kfp_tasks import compile_component, executor_output, python_request  # noqa: E402
from tests.support.processes import gone, killed  # noqa: E402
from tests.support.ray_cluster import local_ray_cluster, ray_variant  # noqa: E402

from pipeyard.launchers import LocalLauncher  # noqa: E402
from pipeyard.launchers.base import Launcher, LaunchRequest, LaunchResult  # noqa: E402

VARIANTS: dict[str, Callable[[Path], Launcher]] = {
    "local-forkserver": lambda tmp: LocalLauncher(envs_dir=tmp / "envs", fork_server=True),
    "local-subprocess": lambda tmp: LocalLauncher(envs_dir=tmp / "envs", fork_server=False),
}
VARIANTS["docker"] = docker_variant()
VARIANTS["ray"] = ray_variant()


@pytest.fixture(scope="module")
def ray_cluster() -> Iterator[None]:
    with local_ray_cluster():
        yield


# The Ray variant runs on the xdist worker that holds the "ray" group: one cluster.
@pytest.fixture(params=[pytest.param(name, marks=pytest.mark.xdist_group("ray")) if name == "ray" else name
                        for name in sorted(VARIANTS)])
def make_launcher(request: pytest.FixtureRequest) -> Callable[[Path], Launcher]:
    if request.param == "ray":
        request.getfixturevalue("ray_cluster")
    return VARIANTS[request.param]


def test_runs_compiled_component(make_launcher: Callable[[Path], Launcher], tmp_path: Path) -> None:
    compiled = compile_component(add, tmp_path, a=1, b=2, out_path="x")
    out = tmp_path / "out.txt"
    requests = [
        python_request(compiled, tmp_path / str(i), {"a": i, "b": 10, "out_path": f"{out}{i}"})
        for i in range(3)
    ]

    async def main() -> list[LaunchResult]:
        launcher = make_launcher(tmp_path)
        try:
            return list(await asyncio.gather(*(launcher.launch(r) for r in requests)))
        finally:
            await launcher.aclose()

    results = asyncio.run(main())
    assert [r.exit_code for r in results] == [0, 0, 0]
    for i in range(3):
        assert Path(f"{out}{i}").read_text() == str(i + 10)
        assert executor_output(tmp_path / str(i)) == {"parameterValues": {"Output": i + 10}}


def test_exit_code_and_log(make_launcher: Callable[[Path], Launcher], tmp_path: Path) -> None:
    request = LaunchRequest(
        key="k", argv=("sh", "-c", "echo to-log; exit 7"), log_path=str(tmp_path / "l" / "t.log")
    )

    async def main() -> LaunchResult:
        launcher = make_launcher(tmp_path)
        try:
            return await launcher.launch(request)
        finally:
            await launcher.aclose()

    result = asyncio.run(main())
    # ``details`` is the launcher's own (Ray names the node); the outcome is the contract.
    assert (result.exit_code, result.timed_out, result.error) == (7, False, None)
    assert Path(request.log_path).read_text() == "to-log\n"


def test_timeout(make_launcher: Callable[[Path], Launcher], tmp_path: Path) -> None:
    request = LaunchRequest(
        key="k", argv=("sleep", "1000"), log_path=str(tmp_path / "l"), timeout_seconds=0.5
    )

    async def main() -> LaunchResult:
        launcher = make_launcher(tmp_path)
        try:
            return await launcher.launch(request)
        finally:
            await launcher.aclose()

    result = asyncio.run(main())
    assert result.timed_out and not result.succeeded


def test_cancel_leaves_no_process(make_launcher: Callable[[Path], Launcher], tmp_path: Path) -> None:
    compiled = compile_component(spawn_and_hang, tmp_path, pid_file="x")

    async def main() -> int:
        launcher = make_launcher(tmp_path)
        pids: asyncio.Queue[int] = asyncio.Queue()

        def on_output(line: str) -> None:
            if line.startswith("grandchild "):
                pids.put_nowait(int(line.split()[1]))

        try:
            task = asyncio.create_task(
                launcher.launch(python_request(compiled, tmp_path, {"pid_file": "-"}, on_output=on_output))
            )
            pid = await pids.get()
            assert not killed(pid), "the grandchild was not running before the cancel"
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            # Killed by the time the cancelled launch returned (perhaps not yet reaped).
            assert killed(pid)
            return pid
        finally:
            await launcher.aclose()

    assert gone(asyncio.run(main()))


def test_executor_input_round_trips(make_launcher: Callable[[Path], Launcher], tmp_path: Path) -> None:
    # A large executor input (but under the kernel's 128 KiB limit for one argv string) works.
    compiled = compile_component(add, tmp_path, a=1, b=2, out_path="x")
    padding = "y" * 100_000
    request = python_request(
        compiled, tmp_path, {"a": 1, "b": 1, "out_path": str(tmp_path / "o"), "pad": padding}
    )

    async def main() -> LaunchResult:
        launcher = make_launcher(tmp_path)
        try:
            return await launcher.launch(request)
        finally:
            await launcher.aclose()

    assert asyncio.run(main()).exit_code == 0
    assert json.loads((tmp_path / "outputs" / "executor_output.json").read_text())["parameterValues"] == {
        "Output": 2
    }
