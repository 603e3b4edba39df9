"""The docker launcher against a real container engine, with images built locally
(``docker_images.py``): compiled pipelines through the engine, and the launcher's
own guarantees (timeout, cancel, pull failure, orphan cleanup, limits, host images).

``scripts/start-docker.sh`` installs and starts an engine; without one reachable,
the module skips with the engine's message.
"""

# No `from __future__ import annotations`: kfp reads component signatures at runtime.
import asyncio
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kfp import dsl, kubernetes  # noqa: E402
from kfp.dsl import Dataset, Output, OutputPath  # noqa: E402
from tests.support.docker_images import (  # noqa: E402
    IMAGE_CLI_ENV,
    PYTHON_IMAGE,
    TOOLS_IMAGE,
    build_python_image,
    build_tools_image,
)
from tests.support.pipeline_runs import cli_json, compile_pipeline, run_cli  # noqa: E402

from pipeyard.artifacts.uris import local_path  # noqa: E402
from pipeyard.config import Settings  # noqa: E402
from pipeyard.engine.runner import execute_run  # noqa: E402
from pipeyard.entities import Run, Task  # noqa: E402
from pipeyard.ir.loader import load_pipeline_file  # noqa: E402
from pipeyard.launchers.base import LaunchRequest, LaunchResult  # noqa: E402
from pipeyard.launchers.docker import DockerLauncher  # noqa: E402
from pipeyard.launchers.docker_bootstrap import CACHE_REPOSITORY  # noqa: E402
from pipeyard.launchers.docker_engine import LABEL_KEY, LABEL_LAUNCHER, Engine, EngineError  # noqa: E402
from pipeyard.store import open_store  # noqa: E402
from pipeyard.submission.runs import check_arguments, create_run  # noqa: E402

# One engine, images built once: keep the module on one xdist worker.
pytestmark = pytest.mark.xdist_group("docker")


PODMAN_HOST_ENV = "PIPEYARD_TEST_PODMAN_HOST"
PODMAN_SOCKET = "/run/podman/podman.sock"


def _podman_host() -> str | None:
    """Podman's Docker-compatible socket (scripts/start-podman.sh starts it)."""
    host = os.environ.get(PODMAN_HOST_ENV)
    if host:
        return host
    return f"unix://{PODMAN_SOCKET}" if Path(PODMAN_SOCKET).is_socket() else None


# Podman's variants form their own xdist group: the two engines' tests run side by side.
@pytest.fixture(scope="module", autouse=True,
                params=["docker", pytest.param("podman", marks=pytest.mark.xdist_group("podman"))])
def engine(request: pytest.FixtureRequest) -> Iterator[Any]:
    """Every test runs against Docker and against Podman (through its Docker API, as users
    reach it with DOCKER_HOST); images are built with that engine's own CLI."""
    saved = {k: os.environ.get(k) for k in ("DOCKER_HOST", IMAGE_CLI_ENV)}
    if request.param == "podman":
        host = _podman_host()
        if host is None:
            pytest.skip(f"no Podman service (scripts/start-podman.sh starts one; or set {PODMAN_HOST_ENV})")
        os.environ["DOCKER_HOST"] = host
        os.environ[IMAGE_CLI_ENV] = "podman" if shutil.which("podman") else "docker"
    try:
        try:
            connection = Engine()
        except EngineError as e:
            pytest.skip(f"no container engine can run here: {e}")
        build_tools_image()
        try:
            yield connection.client
        finally:
            connection.close()
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _containers(client: Any, key: str) -> list[Any]:
    # The engine's plain list: the SDK's models would inspect each container, racing
    # with other tests' removals.
    return list(client.api.containers(all=True, filters={"label": f"{LABEL_KEY}={key}"}))


def _containers_of_run(client: Any, run_id: str) -> list[Any]:
    """Containers of this run's attempts (keys are "<run id>/<task>/<attempt>"); other
    tests may have containers of their own running meanwhile."""
    every = client.api.containers(all=True, filters={"label": f"{LABEL_LAUNCHER}=docker"})
    return [c for c in every if (c.get("Labels") or {}).get(LABEL_KEY, "").startswith(f"{run_id}/")]


def _launch(tmp_path: Path, request: LaunchRequest, **options: Any) -> LaunchResult:
    async def main() -> LaunchResult:
        launcher = DockerLauncher(envs_dir=tmp_path / "envs", **options)
        try:
            return await launcher.launch(request)
        finally:
            await launcher.aclose()

    return asyncio.run(main())


# --------------------------------------------------------------------------- pipelines


@dsl.container_component
def produce(word: str, value: OutputPath(str), data: Output[Dataset]):  # type: ignore[valid-type]
    # `produce` exists only in the image (/opt/tools/produce).
    return dsl.ContainerSpec(image=TOOLS_IMAGE, command=["produce"], args=[word, value, data.path])


@dsl.pipeline(name="docker-produce")
def produce_pipeline(word: str = "hello") -> None:
    task = produce(word=word)
    task.set_env_variable("GREETING", "from-the-task")
    task.set_caching_options(True)


@dsl.container_component
def fail_always():
    return dsl.ContainerSpec(image=TOOLS_IMAGE, command=["sh", "-c", "echo attempt-ran; exit 3"])


@dsl.pipeline(name="docker-fail")
def fail_pipeline() -> None:
    fail_always().set_retry(num_retries=1, backoff_duration="0s")


@dsl.container_component
def echo_item(item: str, value: OutputPath(str)):  # type: ignore[valid-type]
    return dsl.ContainerSpec(image=TOOLS_IMAGE, command=["sh", "-c", 'printf "item-%s" "$0" > "$1"'],
                             args=[item, value])


@dsl.pipeline(name="docker-fan-out")
def fan_out_pipeline() -> None:
    with dsl.ParallelFor(["a", "b", "c"], parallelism=2) as item:
        echo_item(item=item)


@dsl.component(base_image=PYTHON_IMAGE)
def shout(word: str, out: Output[Dataset]) -> str:
    import os
    import sys

    with open(out.path, "w") as f:
        f.write(f"{word} from {sys.prefix} as uid {os.getuid()}")
    return word.upper()


@dsl.pipeline(name="docker-python")
def python_pipeline(word: str = "hey") -> None:
    shout(word=word)


def _run(tmp_path: Path, pipeline: Any, arguments: dict[str, Any], *, caching: bool = False,
         **options: Any) -> tuple[Run, dict[str, list[Task]], Settings]:
    settings = Settings.from_env({"PIPEYARD_HOME": str(tmp_path / "home")})
    settings.ensure_dirs()
    store = open_store(settings.database_url)
    try:
        loaded = load_pipeline_file(compile_pipeline(pipeline, tmp_path / f"{pipeline.name}.yaml"))
        run = create_run(store, loaded, check_arguments(loaded, arguments), pipeline_root=settings.pipeline_root,
                         enable_caching=caching, local_worker="tests")

        async def main() -> Run:
            launcher = DockerLauncher(envs_dir=settings.envs_dir, max_parallel=2, **options)
            try:
                return await execute_run(run.run_id, recorder=store, launcher=launcher, settings=settings)
            finally:
                await launcher.aclose()

        final = asyncio.run(main())
        tasks: dict[str, list[Task]] = {}
        for t in store.list_tasks(run.run_id):
            if t.kind == "CONTAINER":
                tasks.setdefault(t.name, []).append(t)
        return final, tasks, settings
    finally:
        store.close()


def _log_of(settings: Settings, task: Task) -> str:
    return "".join(p.read_text() for p in sorted(settings.logs_dir.glob("*/**/*.attempt-*.log"))
                   if task.display_name in str(p) or task.name in str(p))


def test_program_only_in_the_image_returns_parameter_and_artifact(engine: Any, tmp_path: Path) -> None:
    assert shutil.which("produce") is None  # not on the host: only the image has it
    final, tasks, settings = _run(tmp_path, produce_pipeline, {"word": "hello"})
    assert final.state == "SUCCEEDED", final.error
    (task,) = tasks["produce"]
    outputs = task.outputs or {}
    assert outputs["parameters"]["value"] == "hello-from-image"
    (artifact,) = outputs["artifacts"]["data"]
    path = Path(local_path(artifact["uri"]))
    assert path.read_text() == f"artifact of hello (uid {os.getuid()})\n"
    assert (path.stat().st_uid, path.stat().st_gid) == (os.getuid(), os.getgid())
    log = _log_of(settings, task)
    assert "produced hello in / with GREETING=from-the-task" in log
    assert _containers_of_run(engine, final.run_id) == []


def test_failure_is_retried_and_reported(engine: Any, tmp_path: Path) -> None:
    final, tasks, settings = _run(tmp_path, fail_pipeline, {})
    assert final.state == "FAILED"
    (task,) = tasks["fail-always"]
    assert task.state == "FAILED" and task.attempts == 2
    assert "exit code 3" in (task.error or "")
    assert _log_of(settings, task).count("attempt-ran") == 2
    assert _containers_of_run(engine, final.run_id) == []


def test_parallel_for_fans_out_into_containers(engine: Any, tmp_path: Path) -> None:
    final, tasks, _ = _run(tmp_path, fan_out_pipeline, {})
    assert final.state == "SUCCEEDED", final.error
    values = sorted((t.outputs or {})["parameters"]["value"] for t in tasks["echo-item"])
    assert values == ["item-a", "item-b", "item-c"]


def test_second_run_is_served_from_the_cache(engine: Any, tmp_path: Path) -> None:
    first, tasks1, _ = _run(tmp_path, produce_pipeline, {"word": "cached"}, caching=True)
    second, tasks2, _ = _run(tmp_path, produce_pipeline, {"word": "cached"}, caching=True)
    assert first.state == second.state == "SUCCEEDED"
    (a,), (b,) = tasks1["produce"], tasks2["produce"]
    assert not a.cached and b.cached and b.cached_from_task_id == a.task_id
    assert (b.outputs or {})["parameters"]["value"] == "cached-from-image"


def test_lightweight_component_bootstraps_kfp_inside_its_base_image(engine: Any, tmp_path: Path) -> None:
    build_python_image()
    # The bootstrap pip-installs kfp from the package index: the engine's default bridge
    # has no route out on these machines, the host network has.
    final, tasks, settings = _run(tmp_path / "one", python_pipeline, {"word": "hey"}, network="host")
    assert final.state == "SUCCEEDED", final.error
    (task,) = tasks["shout"]
    assert (task.outputs or {})["parameters"]["Output"] == "HEY"
    (artifact,) = (task.outputs or {})["artifacts"]["out"]
    # sys.prefix is the image's copy of CPython; the host never ran the component.
    assert Path(local_path(artifact["uri"])).read_text() == f"hey from {sys.base_prefix} as uid {os.getuid()}"
    cached = [t for i in engine.images.list(name=CACHE_REPOSITORY) for t in i.tags]
    assert cached, "the bootstrapped image is kept for the next task"
    # A second run reuses the bootstrapped image: no second install.
    again, tasks2, settings2 = _run(tmp_path / "two", python_pipeline, {"word": "ho"}, network="host")
    assert again.state == "SUCCEEDED", again.error
    assert (tasks2["shout"][0].outputs or {})["parameters"]["Output"] == "HO"
    assert "installing kfp into image" not in _log_of(settings2, tasks2["shout"][0])


@dsl.container_component
def write_share(secret_file: str, note: OutputPath(str)):  # type: ignore[valid-type]
    # The secret arrives as an env var and as a file; the PVC carries it to the next task.
    script = 'printf "%s|%s" "$TOKEN" "$(cat "$0")" > /mnt/share/handover && printf written > "$1"'
    return dsl.ContainerSpec(image=TOOLS_IMAGE, command=["sh", "-c", script], args=[secret_file, note])


@dsl.container_component
def read_share(after: str, value: OutputPath(str)):  # type: ignore[valid-type]
    return dsl.ContainerSpec(image=TOOLS_IMAGE, command=["sh", "-c", 'cat /mnt/share/handover > "$0"'],
                             args=[value])


@dsl.pipeline(name="docker-platform")
def platform_pipeline() -> None:
    pvc = kubernetes.CreatePVC(pvc_name="docker-share", access_modes=["ReadWriteOnce"], size="1Mi")
    first = write_share(secret_file="/etc/api/token")
    kubernetes.use_secret_as_env(first, secret_name="api", secret_key_to_env={"token": "TOKEN"})
    kubernetes.use_secret_as_volume(first, secret_name="api", mount_path="/etc/api")
    kubernetes.mount_pvc(first, pvc_name=pvc.outputs["name"], mount_path="/mnt/share")
    second = read_share(after=first.outputs["note"])
    kubernetes.mount_pvc(second, pvc_name=pvc.outputs["name"], mount_path="/mnt/share")


def test_cli_run_with_secrets_and_a_shared_pvc(engine: Any, tmp_path: Path) -> None:
    home = tmp_path / "home"
    file = compile_pipeline(platform_pipeline, tmp_path / "platform.yaml")
    assert run_cli(home, "secrets", "set", "api", "token=t0ps3cret").returncode == 0
    code, doc = cli_json(home, "run", str(file), "--no-cache", "--launcher", "docker")
    assert code == 0 and doc["state"] == "SUCCEEDED", doc
    second = next(t for t in doc["tasks"] if t["name"] == "read-share")
    assert second["outputs"]["value"] == "t0ps3cret|t0ps3cret"
    assert (home / "volumes" / "docker-share" / "handover").stat().st_uid == os.getuid()
    assert _containers_of_run(engine, doc["run_id"]) == []


def test_server_runs_tasks_in_containers_and_serves_their_logs(engine: Any, start_server: Any,
                                                               tmp_path: Path) -> None:
    server = start_server(env={"PIPEYARD_LAUNCHER": "docker"})
    file = compile_pipeline(produce_pipeline, tmp_path / "produce.yaml")
    created = server.client().create_run_from_pipeline_package(str(file), arguments={"word": "served"},
                                                                enable_caching=False)
    with server.http() as http:
        run = server.wait_run(http, created.run_id)
        assert run["state"] == "SUCCEEDED", server.log_tail()
        tasks = http.get(f"/apis/pipeyard/v1/runs/{created.run_id}/tasks").json()["tasks"]
        task = next(t for t in tasks if t["name"] == "produce")
        assert task["outputs"]["parameters"]["value"] == "served-from-image"
        log = http.get(f"/apis/pipeyard/v1/runs/{created.run_id}/tasks/{task['task_id']}/log")
        assert log.status_code == 200 and "produced served in " in log.text
    assert _containers_of_run(engine, created.run_id) == []


CONTAINERIZED = f"""
import os

from kfp import dsl


@dsl.component(base_image={PYTHON_IMAGE!r}, target_image="pipeyard-test/containerized:1")
def triple(x: int) -> str:
    return f"{{3 * x}} in {{os.getcwd()}}"
"""


def test_component_built_by_kfp_component_build_runs_from_its_image(engine: Any, tmp_path: Path) -> None:
    import importlib.util

    build_python_image()
    src = tmp_path / "components"
    src.mkdir()
    (src / "triple_component.py").write_text(CONTAINERIZED)
    kfp_cli = Path(sys.executable).with_name("kfp")
    subprocess.run([str(kfp_cli), "component", "build", str(src), "--no-build-image", "--no-push-image"],
                   check=True, capture_output=True, cwd=src)
    # The generated Dockerfile's `pip install kfp` needs a route to the index: the host network.
    engine.images.build(path=str(src), tag="pipeyard-test/containerized:1", network_mode="host", rm=True,
                        labels={"pipeyard.test-image": "1"})
    spec = importlib.util.spec_from_file_location("triple_component", src / "triple_component.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)

    @dsl.pipeline(name="docker-containerized")
    def containerized(x: int = 2) -> None:
        module.triple(x=x)

    final, tasks, _ = _run(tmp_path, containerized, {"x": 5})
    assert final.state == "SUCCEEDED", final.error
    # The module is imported from the image's WORKDIR, where the build copied it.
    assert (tasks["triple"][0].outputs or {})["parameters"]["Output"] == "15 in /usr/local/src/kfp/components"


# --------------------------------------------------------------------------- the launcher itself


def _request(tmp_path: Path, key: str, argv: tuple[str, ...], **fields: Any) -> LaunchRequest:
    work = tmp_path / "work" / key
    work.mkdir(parents=True, exist_ok=True)
    return LaunchRequest(key=f"test/{key}/{os.getpid()}", argv=argv, log_path=str(tmp_path / f"{key}.log"),
                         cwd=str(work), image=fields.pop("image", TOOLS_IMAGE), host_paths=(str(work),),
                         **fields)


def test_timeout_stops_and_removes_the_container(engine: Any, tmp_path: Path) -> None:
    request = _request(tmp_path, "timeout", ("sh", "-c", "echo started; sleep 600"), timeout_seconds=3)
    result = _launch(tmp_path, request)
    assert result.timed_out and not result.succeeded
    assert "started" in Path(request.log_path).read_text()
    assert "timed out after 3 s" in Path(request.log_path).read_text()
    assert _containers(engine, request.key) == []


def test_cancel_stops_and_removes_the_container(engine: Any, tmp_path: Path) -> None:
    started = asyncio.Event()

    def on_output(line: str) -> None:
        if line == "started":
            started.set()

    request = _request(tmp_path, "cancel", ("sh", "-c", "echo started; sleep 600"), on_output=on_output)
    seen_running: list[int] = []

    async def main() -> None:
        launcher = DockerLauncher(envs_dir=tmp_path / "envs")
        try:
            task = asyncio.ensure_future(launcher.launch(request))
            await asyncio.wait_for(started.wait(), 120)
            seen_running.append(len(_containers(engine, request.key)))
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
        finally:
            await launcher.aclose()

    asyncio.run(main())
    assert seen_running == [1]
    assert _containers(engine, request.key) == []
    assert "pipeyard: task cancelled" in Path(request.log_path).read_text()


def test_env_user_and_limits_reach_the_container(engine: Any, tmp_path: Path) -> None:
    script = ('echo "cwd=$(pwd) env=$COLOUR user=$(id -u):$(id -g)"; '
              'cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes; '
              'cat /sys/fs/cgroup/cpu.max 2>/dev/null || cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us')
    request = _request(tmp_path, "limits", ("sh", "-c", script), env={"COLOUR": "teal"},
                       cpu_limit=0.5, memory_limit_bytes=64 * 1024 * 1024)
    assert _launch(tmp_path, request) == LaunchResult(exit_code=0)
    lines = Path(request.log_path).read_text().splitlines()
    # The image's working directory (none set: "/"), as a KFP cluster would run it.
    assert lines[0] == f"cwd=/ env=teal user={os.getuid()}:{os.getgid()}"
    assert lines[1] == str(64 * 1024 * 1024)
    assert lines[2].split()[0] == "50000"


def test_container_past_its_memory_limit_fails_out_of_memory(engine: Any, tmp_path: Path) -> None:
    # The shell holds 64 MB in a variable; the limit is 16Mi.
    script = "x=$(head -c 67108864 /dev/zero | tr '\\0' a); echo survived ${#x}"
    request = _request(tmp_path, "oom", ("sh", "-c", script), memory_limit_bytes=16 * 1024 * 1024)
    result = _launch(tmp_path, request)
    assert result.error is not None and result.error.startswith("out of memory: limit 16Mi"), result
    assert "pipeyard: out of memory: limit 16Mi" in Path(request.log_path).read_text()


def test_files_written_in_the_container_belong_to_the_configured_user(engine: Any, tmp_path: Path) -> None:
    # These tests run as root, where "owned by the caller" would hold for a root container
    # too: run the launcher for another uid and check the files are that uid's.
    out = tmp_path / "shared"
    out.mkdir()
    out.chmod(0o777)
    request = _request(tmp_path, "owner", ("sh", "-c", f'echo "$(id -u):$(id -g)" > {out}/made; mkdir {out}/dir'),
                       mounts={str(out): str(out)})
    assert _launch(tmp_path, request, user="4321:4322") == LaunchResult(exit_code=0)
    made = out / "made"
    assert made.read_text() == "4321:4322\n"
    for path in (made, out / "dir"):
        assert (path.stat().st_uid, path.stat().st_gid) == (4321, 4322)


def test_mounts_are_bound_at_their_container_paths(engine: Any, tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.mkdir()
    (secret / "password").write_text("s3cret")
    request = _request(tmp_path, "mounts", ("sh", "-c", "cat /etc/creds/password > /shared/copy"),
                       mounts={"/etc/creds": str(secret), "/shared": str(tmp_path / "pvc")})
    assert _launch(tmp_path, request) == LaunchResult(exit_code=0)
    assert (tmp_path / "pvc" / "copy").read_text() == "s3cret"


def test_missing_program_and_missing_image_are_clear_errors(engine: Any, tmp_path: Path) -> None:
    no_program = _launch(tmp_path, _request(tmp_path, "noprog", ("no-such-program",)))
    assert no_program.error is not None and TOOLS_IMAGE in no_program.error
    assert "no-such-program" in no_program.error
    absent = "pipeyard-test/absent:1"
    no_image = _launch(tmp_path, _request(tmp_path, "noimage", ("true",), image=absent))
    assert no_image.error is not None and f"cannot pull image {absent!r}" in no_image.error


def test_host_images_run_on_the_host(engine: Any, tmp_path: Path) -> None:
    # The image does not exist in the engine: only a host run can succeed.
    marker = tmp_path / "ran-on-host"
    request = _request(tmp_path, "host", ("sh", "-c", f"echo yes > {marker}"), image="pipeyard-test/hostonly:1")
    assert _launch(tmp_path, request, host_images="pipeyard-test/hostonly:*") == LaunchResult(exit_code=0)
    assert marker.read_text() == "yes\n"


def test_containers_of_a_dead_pipeyard_are_removed_on_start(engine: Any, tmp_path: Path) -> None:
    dead = subprocess.run(["sh", "-c", "echo $$"], capture_output=True, text=True, check=True).stdout.strip()
    key = f"orphan-{os.getpid()}"
    orphan = engine.containers.create(TOOLS_IMAGE, ["sleep", "600"], labels={
        LABEL_LAUNCHER: "docker", "pipeyard.host": os.uname().nodename, "pipeyard.pid": dead, LABEL_KEY: key})
    orphan.start()
    request = _request(tmp_path, "after-orphan", ("true",))
    assert _launch(tmp_path, request) == LaunchResult(exit_code=0)
    assert _containers(engine, key) == []
