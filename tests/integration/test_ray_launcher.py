"""The Ray launcher against a real local Ray cluster (one per module): the
launcher contract cases that apply, Ray-specific refusals, and a compiled
two-step pipeline run end to end through the engine."""

# No `from __future__ import annotations`: kfp reads component signatures at runtime.
import asyncio
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ray = pytest.importorskip("ray")

_HERE = Path(__file__).resolve()
sys.path[:0] = [str(_HERE.parents[2] / "src"), str(_HERE.parents[1] / "unit" / "launchers")]

from kfp import dsl  # noqa: E402
from kfp.dsl import Dataset, Input, Output  # noqa: E402
from launcher_components import add, spawn_and_hang, use_inflection  # noqa: E402
from launcher_kfp_tasks import compile_component, component, executor_output, python_request  # noqa: E402
from tests.unit.engine.pipeline_runs import compile_pipeline  # noqa: E402

from pipeyard.artifacts.uris import local_path  # noqa: E402
from pipeyard.config import Settings  # noqa: E402
from pipeyard.engine.runner import execute_run  # noqa: E402
from pipeyard.ir.loader import load_pipeline_file  # noqa: E402
from pipeyard.launchers.base import LaunchRequest, LaunchResult  # noqa: E402
from pipeyard.launchers.ray import RayLauncher  # noqa: E402
from pipeyard.store import open_store  # noqa: E402
from pipeyard.submission.runs import check_arguments, create_run  # noqa: E402

CLUSTER_CPUS = 4
# One worker gets the whole module under `pytest -n --dist loadgroup`: one cluster, not one per worker.
pytestmark = pytest.mark.xdist_group("ray")


@pytest.fixture(scope="module", autouse=True)
def ray_cluster() -> Iterator[None]:
    # "local": a cluster of our own, never one a developer has running.
    ray.init(
        address="local",
        num_cpus=CLUSTER_CPUS,
        include_dashboard=False,
        log_to_driver=False,
        object_store_memory=100 * 1024 * 1024,
    )
    try:
        yield
    finally:
        ray.shutdown()


def _with_launcher(body: Any, **options: Any) -> Any:
    async def main() -> Any:
        launcher = RayLauncher(**options)
        try:
            return await body(launcher)
        finally:
            await launcher.aclose()

    return asyncio.run(main())


def _launch(request: LaunchRequest) -> LaunchResult:
    async def body(launcher: RayLauncher) -> LaunchResult:
        return await launcher.launch(request)

    result: LaunchResult = _with_launcher(body)
    return result


def _gone(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except FileNotFoundError:
        return True


def test_shell_output_exit_code_env_and_cwd(tmp_path: Path) -> None:
    workdir = tmp_path / "wd"
    workdir.mkdir()
    lines: list[str] = []
    request = LaunchRequest(
        key="k",
        argv=("sh", "-c", 'echo to-log; echo "v=$PIPEYARD_T_VAR"; pwd; echo err >&2; exit 7'),
        log_path=str(tmp_path / "l" / "t.log"),
        env={"PIPEYARD_T_VAR": "hello"},
        cwd=str(workdir),
        on_output=lines.append,
    )
    result = _launch(request)
    assert (result.exit_code, result.timed_out, result.error) == (7, False, None)
    assert result.details["ray_node_ip"]  # where it ran, for the task's details
    expected = ["to-log", "v=hello", str(workdir), "err"]
    assert Path(request.log_path).read_text().splitlines() == expected
    assert lines == expected


def test_processes_left_behind_die_with_the_task(tmp_path: Path) -> None:
    # The background sleep keeps the output pipe open: the task must still end when sh does.
    lines: list[str] = []
    request = LaunchRequest(
        key="k", argv=("sh", "-c", "sleep 1000 & echo $!; exit 3"), log_path=str(tmp_path / "t.log"),
        on_output=lines.append,
    )
    assert _launch(request).exit_code == 3
    assert _gone(int(lines[0]))


def test_missing_executable_is_a_clear_error(tmp_path: Path) -> None:
    request = LaunchRequest(key="k", argv=("pipeyard-no-such-exe",), log_path=str(tmp_path / "t.log"))
    result = _launch(request)
    assert result.exit_code is None and result.error is not None
    assert "executable 'pipeyard-no-such-exe' not found" in result.error
    assert "not found" in Path(request.log_path).read_text()


def test_timeout_kills_the_task(tmp_path: Path) -> None:
    request = LaunchRequest(
        key="k", argv=("sleep", "1000"), log_path=str(tmp_path / "t.log"), timeout_seconds=0.5
    )
    result = _launch(request)
    assert result.timed_out and not result.succeeded
    assert "timed out" in Path(request.log_path).read_text()


def test_compiled_component_writes_executor_output(tmp_path: Path) -> None:
    compiled = compile_component(add, tmp_path, a=1, b=2, out_path="x")
    lines: list[str] = []
    request = python_request(
        compiled, tmp_path, {"a": 4, "b": 10, "out_path": str(tmp_path / "o")}, on_output=lines.append
    )
    assert _launch(request).exit_code == 0
    assert (tmp_path / "o").read_text() == "14"
    assert executor_output(tmp_path) == {"parameterValues": {"Output": 14}}
    assert "sum is 14" in lines


def test_two_tasks_run_concurrently(tmp_path: Path) -> None:
    # Each task waits for the other's marker file, so they finish only if both run at once.
    def waiter(me: str, other: str) -> LaunchRequest:
        script = f"touch {tmp_path / me}; while [ ! -e {tmp_path / other} ]; do sleep 0.05; done; echo {me}"
        return LaunchRequest(
            key=me, argv=("sh", "-c", script), log_path=str(tmp_path / f"{me}.log"), timeout_seconds=60
        )

    async def body(launcher: RayLauncher) -> list[LaunchResult]:
        return list(await asyncio.gather(launcher.launch(waiter("a", "b")), launcher.launch(waiter("b", "a"))))

    results = _with_launcher(body)
    assert [r.exit_code for r in results] == [0, 0]


def test_cancel_kills_the_whole_process_group(tmp_path: Path) -> None:
    compiled = compile_component(spawn_and_hang, tmp_path, pid_file="x")

    async def body(launcher: RayLauncher) -> int:
        pids: asyncio.Queue[int] = asyncio.Queue()

        def on_output(line: str) -> None:
            if line.startswith("grandchild "):
                pids.put_nowait(int(line.split()[1]))

        task = asyncio.create_task(
            launcher.launch(python_request(compiled, tmp_path, {"pid_file": "-"}, on_output=on_output))
        )
        pid = await pids.get()
        assert not _gone(pid)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return pid

    assert _gone(_with_launcher(body))


def test_refusals_name_what_is_unsupported(tmp_path: Path) -> None:
    big = LaunchRequest(key="k", argv=("true",), log_path=str(tmp_path / "a.log"), cpu=CLUSTER_CPUS + 1)
    mounted = LaunchRequest(
        key="k", argv=("true",), log_path=str(tmp_path / "b.log"), mounts={"/data": str(tmp_path)}
    )
    packaged = python_request(compile_component(use_inflection, tmp_path, word="x"), tmp_path, {"word": "a_b"})

    async def body(launcher: RayLauncher) -> list[LaunchResult]:
        return [await launcher.launch(r) for r in (big, mounted, packaged)]

    too_big, with_mount, with_packages = _with_launcher(body)
    assert too_big.error is not None and "CPUs" in too_big.error
    assert with_mount.error is not None and "/data" in with_mount.error
    assert with_packages.error is not None and "inflection==0.5.1" in with_packages.error


# ----------------------------------------------------------------------------- end to end


@component()
def make_text(word: str, out: Output[Dataset]) -> str:
    with open(out.path, "w") as f:
        f.write(word * 2)
    return word.upper()


@component()
def combine(upper: str, data: Input[Dataset]) -> str:
    with open(data.path) as f:
        return upper + ":" + f.read()


@dsl.pipeline(name="ray-two-steps")
def two_steps(word: str = "ab") -> str:
    first = make_text(word=word)
    return combine(upper=first.outputs["Output"], data=first.outputs["out"]).output


def test_compiled_pipeline_runs_through_the_engine(tmp_path: Path) -> None:
    settings = Settings.from_env({"PIPEYARD_HOME": str(tmp_path / "home")})
    settings.ensure_dirs()
    store = open_store(settings.database_url)
    try:
        loaded = load_pipeline_file(compile_pipeline(two_steps, tmp_path / "p.yaml"))
        run = create_run(
            store, loaded, check_arguments(loaded, {"word": "xy"}),
            pipeline_root=settings.pipeline_root, enable_caching=False, local_worker="tests",
        )

        async def body(launcher: RayLauncher) -> Any:
            return await execute_run(run.run_id, recorder=store, launcher=launcher, settings=settings)

        final = _with_launcher(body, max_parallel=2)
        assert final.state == "SUCCEEDED", final.error
        tasks = {t.name: t for t in store.list_tasks(run.run_id)}
        assert (tasks["make-text"].outputs or {})["parameters"]["Output"] == "XY"
        (artifact,) = (tasks["make-text"].outputs or {})["artifacts"]["out"]
        assert Path(local_path(artifact["uri"])).read_text() == "xyxy"
        assert (tasks["combine"].outputs or {})["parameters"]["Output"] == "XY:xyxy"
    finally:
        store.close()
