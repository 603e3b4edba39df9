"""The Ray launcher against a real local Ray cluster (one per module), beyond the
launcher contract suite it also runs (tests/contract/test_launchers.py: compiled
component, exit code and log, timeout, cancel of the whole process group): env and
cwd, processes left behind, Ray-specific refusals, concurrency, and a compiled
two-step pipeline run end to end through the engine."""

# No `from __future__ import annotations`: kfp reads component signatures at runtime.
import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kfp import dsl  # noqa: E402
from kfp.dsl import Dataset, Input, Output  # noqa: E402
from tests.support.launcher_components import use_inflection  # noqa: E402
from tests.support.launcher_kfp_tasks import (  # noqa: E402
    compile_component,
    component,
    executor_output,
    python_request,
)
from tests.support.pipeline_runs import compile_pipeline  # noqa: E402
from tests.support.processes import gone, killed, wait_until  # noqa: E402
from tests.support.ray_cluster import CLUSTER_CPUS, local_ray_cluster  # noqa: E402

from pipeyard.artifacts.uris import local_path  # noqa: E402
from pipeyard.config import Settings  # noqa: E402
from pipeyard.engine.runner import execute_run  # noqa: E402
from pipeyard.ir.loader import load_pipeline_file  # noqa: E402
from pipeyard.launchers import ray as ray_launcher  # noqa: E402
from pipeyard.launchers.base import LaunchRequest, LaunchResult  # noqa: E402
from pipeyard.launchers.ray import RayLauncher  # noqa: E402
from pipeyard.store import open_store  # noqa: E402
from pipeyard.submission.runs import check_arguments, create_run  # noqa: E402

# One worker gets the whole module under `pytest -n --dist loadgroup`: one cluster, not one per worker.
pytestmark = pytest.mark.xdist_group("ray")


@pytest.fixture(scope="module", autouse=True)
def ray_cluster() -> Iterator[None]:
    with local_ray_cluster():
        yield


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
    assert killed(int(lines[0]))  # dead or dying when the launch returned


def test_a_cancel_that_does_not_end_the_task_kills_its_worker(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    # No wait for Ray's gentle cancel: the launcher goes straight to killing the Ray worker
    # process, as it does when that cancel has not ended the task in time on a loaded machine.
    monkeypatch.setattr(ray_launcher, "_CANCEL_WAIT_SECONDS", 0.0)
    lines: list[str] = []
    request = LaunchRequest(key="k", argv=("sh", "-c", "sleep 1000 & echo $!; wait"),
                            log_path=str(tmp_path / "t.log"), on_output=lines.append)

    async def body(launcher: RayLauncher) -> LaunchResult:
        task = asyncio.ensure_future(launcher.launch(request))
        while not lines:
            await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        # The worker died with the task's group (its watchdog); Ray starts another.
        return await launcher.launch(LaunchRequest(key="k2", argv=("sh", "-c", "exit 4"),
                                                   log_path=str(tmp_path / "t2.log")))

    assert _with_launcher(body).exit_code == 4
    wait_until(lambda: gone(int(lines[0])), "the cancelled task's sleep to be gone", 120)
    log = Path(request.log_path).read_text()
    assert "its Ray worker process was killed" in log and log.endswith("pipeyard: task cancelled\n")


def test_missing_executable_is_a_clear_error(tmp_path: Path) -> None:
    request = LaunchRequest(key="k", argv=("pipeyard-no-such-exe",), log_path=str(tmp_path / "t.log"))
    result = _launch(request)
    assert result.exit_code is None and result.error is not None
    assert "executable 'pipeyard-no-such-exe' not found" in result.error
    assert "not found" in Path(request.log_path).read_text()


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


def test_refusals_name_what_is_unsupported(tmp_path: Path) -> None:
    big = LaunchRequest(key="k", argv=("true",), log_path=str(tmp_path / "a.log"), cpu=CLUSTER_CPUS + 1)
    mounted = LaunchRequest(
        key="k", argv=("true",), log_path=str(tmp_path / "b.log"), mounts={"/data": str(tmp_path)}
    )

    async def body(launcher: RayLauncher) -> list[LaunchResult]:
        return [await launcher.launch(r) for r in (big, mounted)]

    too_big, with_mount = _with_launcher(body)
    assert too_big.error is not None and "CPUs" in too_big.error
    assert with_mount.error is not None and "/data" in with_mount.error


def test_packages_to_install_come_from_one_cached_venv_on_the_node(tmp_path: Path) -> None:
    # inflection is not installed here: only the node's venv for this requirement set can provide it.
    with pytest.raises(ModuleNotFoundError):
        __import__("inflection")
    compiled = compile_component(use_inflection, tmp_path, word="x")
    assert compiled.packages == ("inflection==0.5.1",)
    runs = [tmp_path / "first", tmp_path / "second"]

    async def body(launcher: RayLauncher) -> list[LaunchResult]:
        return [await launcher.launch(python_request(compiled, d, {"word": "hello_world"}, key=d.name))
                for d in runs]

    results = _with_launcher(body)
    logs = [(d / "logs" / "task.log").read_text() for d in runs]
    for result, run_dir, log in zip(results, runs, logs, strict=True):
        assert result.exit_code == 0, log
        assert executor_output(run_dir)["parameterValues"] == {"Output": "HelloWorld"}
    # Both tasks imported it from the same environment Ray made for this requirement set.
    origins = [line.split("inflection from ", 1)[1] for log in logs for line in log.splitlines()
               if line.startswith("inflection from ")]
    assert len(origins) == 2 and origins[0] == origins[1], logs
    assert "/pipeyard-envs/venv-" in origins[0], origins[0]


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
