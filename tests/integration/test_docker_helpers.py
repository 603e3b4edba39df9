"""The docker launcher's pure parts: what a container is created with, which paths are
bound, how a lightweight component is split, cache tags, image references. No engine
is needed; tests/integration/test_docker_launcher.py runs the real thing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.support.launcher_components import add
from tests.support.launcher_kfp_tasks import compile_component, python_request

from pipeyard.launchers.base import LaunchRequest
from pipeyard.launchers.choose import make_launcher
from pipeyard.launchers.docker import DockerLauncher, bind_paths
from pipeyard.launchers.docker_bootstrap import cache_tag, split_lightweight
from pipeyard.launchers.docker_engine import LABEL_KEY, LABEL_LAUNCHER, LABEL_PID, _split_reference


def test_choosing_docker_builds_the_launcher_without_connecting(tmp_path: Path) -> None:
    launcher = make_launcher("docker", envs_dir=tmp_path, max_parallel=2)
    assert isinstance(launcher, DockerLauncher) and launcher.max_parallel == 2


def test_the_docker_sdk_loads_only_when_the_launcher_is_chosen() -> None:
    code = "import sys, pipeyard.launchers.choose, pipeyard.cli.main; print('docker' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert out.stdout.strip() == "False"


def test_bind_paths_keep_existing_outermost_paths(tmp_path: Path) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "ab").mkdir()
    (tmp_path / "f.txt").write_text("x")
    paths = [str(tmp_path / "a" / "b"), str(tmp_path / "a"), str(tmp_path / "ab"), str(tmp_path / "f.txt"),
             str(tmp_path / "missing"), ""]
    assert bind_paths(paths) == [str(tmp_path / "a"), str(tmp_path / "ab"), str(tmp_path / "f.txt")]


def test_container_gets_command_env_user_limits_mounts_and_labels(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    launcher = DockerLauncher(envs_dir=tmp_path, user="1234:99", network="host")
    request = LaunchRequest(key="run1/task/1", argv=("tool", "--x", "1"), log_path=str(tmp_path / "l"),
                            env={"A": "b"}, cwd=str(work), cpu=0.5, memory_bytes=1 << 25,
                            cpu_limit=1.5, memory_limit_bytes=1 << 26,
                            image="img:1", host_paths=(str(work),), mounts={"/data": str(tmp_path / "pvc")})
    args = launcher._create_args(request, "img:1", list(request.argv))
    assert (args["entrypoint"], args["command"]) == (["tool"], ["--x", "1"])
    assert args["environment"] == {"HOME": "/tmp", "A": "b"}
    # The image's WORKDIR stays (KFP semantics), whatever the request's cwd.
    assert "working_dir" not in args
    assert (args["user"], args["network_mode"]) == ("1234:99", "host")
    # Limits are the container's limits; the CPU request is its relative share.
    assert (args["nano_cpus"], args["mem_limit"], args["memswap_limit"]) == (1_500_000_000, 1 << 26, 1 << 26)
    assert args["cpu_shares"] == 512
    assert "device_requests" not in args
    assert [(m["Source"], m["Target"]) for m in args["mounts"]] == [
        (str(work), str(work)), (str(tmp_path / "pvc"), "/data")]
    assert (tmp_path / "pvc").is_dir()
    labels = args["labels"]
    assert labels[LABEL_LAUNCHER] == "docker" and labels[LABEL_KEY] == "run1/task/1"
    assert labels[LABEL_PID] == str(os.getpid())


def test_gpu_request_becomes_a_device_request_for_the_granted_devices(tmp_path: Path) -> None:
    launcher = DockerLauncher(envs_dir=tmp_path, gpu_devices=("0", "1", "2"))
    request = LaunchRequest(key="r/t/1", argv=("nvidia-smi",), log_path=str(tmp_path / "l"), image="cuda:12",
                            accelerator_type="nvidia.com/gpu", accelerator_count=2)
    args = launcher._create_args(request, "cuda:12", list(request.argv), ["1", "2"])
    (device_request,) = args["device_requests"]
    assert device_request["DeviceIDs"] == ["1", "2"]
    assert device_request["Capabilities"] == [["gpu"]]
    assert device_request["Count"] == 0  # the ids, not a count, choose the devices


def test_default_user_is_the_callers(tmp_path: Path) -> None:
    assert DockerLauncher(envs_dir=tmp_path).user == f"{os.getuid()}:{os.getgid()}"


def test_lightweight_component_splits_into_bootstrap_and_program(tmp_path: Path) -> None:
    compiled = compile_component(add, tmp_path, a=1, b=2, out_path="x")
    request = python_request(compiled, tmp_path, {"a": 1, "b": 2, "out_path": "x"})
    split = split_lightweight(request.argv)
    assert split is not None
    bootstrap, rest = split
    assert "pip install" in bootstrap and "kfp==" in bootstrap
    assert rest[:2] == ("sh", "-ec") and "ephemeral_component.py" in rest[2]
    assert split_lightweight(("python3", "-m", "kfp.dsl.executor_main")) is None


def test_cache_tag_follows_image_and_bootstrap() -> None:
    one = cache_tag("sha256:aa", "pip install kfp==2.1")
    assert one.startswith("pipeyard-kfp-bootstrap:") and one == cache_tag("sha256:aa", "pip install kfp==2.1")
    assert one != cache_tag("sha256:bb", "pip install kfp==2.1")
    assert one != cache_tag("sha256:aa", "pip install kfp==2.2")


def test_image_references_split_into_repository_and_tag() -> None:
    assert _split_reference("python:3.11") == ("python", "3.11")
    assert _split_reference("registry:5000/team/img") == ("registry:5000/team/img", "latest")
    assert _split_reference("registry:5000/team/img:v2") == ("registry:5000/team/img", "v2")
    assert _split_reference("img@sha256:abc") == ("img@sha256:abc", None)


def test_host_image_patterns(tmp_path: Path) -> None:
    launcher = DockerLauncher(envs_dir=tmp_path, host_images="python:3.*, my/pyonly:*")
    assert launcher.runs_on_host("python:3.11") and launcher.runs_on_host("my/pyonly:1")
    assert not launcher.runs_on_host("python") and not launcher.runs_on_host("other:1")
