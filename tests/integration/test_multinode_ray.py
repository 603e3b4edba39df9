"""A Ray cluster of two nodes in network namespaces (netns_cluster.py), a pipeyard
server on the head with PostgreSQL, and moto's S3 as the pipeline root: a fan-out
runs on both nodes, an artifact made on the worker is read on the head through
the bucket, a second run is cached, a request no node can hold is refused, and a
task whose node is killed mid-run succeeds on the remaining node."""

# No `from __future__ import annotations`: kfp reads component signatures at runtime.
import contextlib
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import moto.server  # noqa: F401  (a dev dependency: missing fails, never skips)
import pytest
import ray  # noqa: F401  (the ray extra is part of dev: missing fails)
import s3fs
import sqlalchemy as sa
from kfp import compiler, dsl
from kfp.dsl import Dataset, Input, Output
from tests.integration.conftest import POSTGRES_ENV, postgres_schema_url
from tests.integration.netns_cluster import S3_PORT, Cluster, netns_available, two_node_cluster

# Starting two Ray nodes takes half a minute on a quiet machine, many minutes on a
# loaded one (Ray's start-up is mostly Python imports): above pytest-timeout's default.
pytestmark = [pytest.mark.xdist_group("ray"), pytest.mark.timeout(1500)]
BUCKET = "cluster"
ROOT = f"s3://{BUCKET}/root"
SERVER_PORT = 8888
# Guards against a hung cluster on a loaded machine, not performance assertions.
DEADLINE_SECONDS = 300.0
_SRC = str(Path(__file__).resolve().parents[2] / "src")
# A server bound beyond loopback requires a token.
TOKEN = uuid.uuid4().hex
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@dataclass
class Deployment:
    cluster: Cluster
    url: str
    s3_env: dict[str, str]
    log: Path

    def http(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30, headers=AUTH)

    def fs(self) -> Any:
        return s3fs.S3FileSystem(skip_instance_cache=True, key="test", secret="test",
                                 client_kwargs={"endpoint_url": self.cluster.s3_endpoint})


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.kill()
    proc.wait()


def _healthy(dep: Deployment, server: subprocess.Popen[bytes]) -> bool:
    if server.poll() is not None:
        pytest.fail(f"the server exited with {server.returncode}:\n{dep.log.read_text(errors='replace')[-3000:]}")
    return httpx.get(f"{dep.url}/apis/v2beta1/healthz", headers=AUTH, timeout=2).status_code == 200


def _wait(what: str, check: Any, log: Path | None = None) -> Any:
    deadline = time.monotonic() + DEADLINE_SECONDS
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError, OSError):
            value = check()
            if value:
                return value
        time.sleep(0.2)
    tail = log.read_text(errors="replace")[-4000:] if log and log.exists() else ""
    pytest.fail(f"timed out waiting for {what}\n{tail}")


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    reason = netns_available()
    if reason is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must run the multi-node test: {reason}")
        pytest.skip(reason)
    pg = os.environ.get(POSTGRES_ENV)
    if not pg:
        pytest.fail(f"{POSTGRES_ENV} is not set: the multi-node test needs PostgreSQL")
    base = Path(f"/tmp/pym{os.getpid()}")  # short: Ray's socket paths must fit 107 bytes
    base.mkdir(exist_ok=True)
    home = base / "home"
    home.mkdir(exist_ok=True)
    s3_env = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": "us-east-1"}
    with contextlib.ExitStack() as stack:
        stack.callback(lambda: subprocess.run(["rm", "-rf", str(base)], check=False))
        schema_url = stack.enter_context(postgres_schema_url(pg))
        env = {**s3_env, "PYTHONPATH": _SRC}
        cluster = stack.enter_context(two_node_cluster(base, home, env))
        env_s3 = {**s3_env, "AWS_ENDPOINT_URL": cluster.s3_endpoint}
        cluster.env.update(env_s3)
        moto = cluster.popen(cluster.head_ns, [sys.executable, "-m", "moto.server", "-H", cluster.head_ip,
                                               "-p", str(S3_PORT)], base / "moto.log")
        stack.callback(_stop, moto)
        url = sa.make_url(schema_url)
        port = cluster.forward_postgres(url.host or "127.0.0.1", url.port or 5432)
        db = url.set(host=cluster.root_ip, port=port).render_as_string(hide_password=False)
        server_env = {"PIPEYARD_HOME": str(home), "PIPEYARD_DATABASE_URL": db, "PIPEYARD_LAUNCHER": "ray",
                      "PIPEYARD_RAY_ADDRESS": cluster.ray_address, "PIPEYARD_PIPELINE_ROOT": ROOT,
                      "PYTHONUNBUFFERED": "1", "PIPEYARD_AUTH_TOKEN": TOKEN}
        log = base / "server.log"
        server = cluster.popen(cluster.head_ns, [sys.executable, "-m", "pipeyard.server.main", "--host",
                                                 cluster.head_outer_ip, "--port", str(SERVER_PORT)],
                               log, server_env)
        stack.callback(_stop, server)
        dep = Deployment(cluster, f"http://{cluster.head_outer_ip}:{SERVER_PORT}", env_s3, log)
        _wait("the S3 endpoint", lambda: httpx.get(cluster.s3_endpoint, timeout=2).status_code < 500)
        dep.fs().mkdir(BUCKET)
        _wait("the server", lambda: _healthy(dep, server),
              log)
        yield dep


# ---------------------------------------------------------------- pipelines


@dsl.component
def make_data(text: str, data: Output[Dataset]) -> None:
    with open(data.path, "w") as f:
        f.write(text * 3)


@dsl.component
def read_data(data: Input[Dataset]) -> str:
    with open(data.path) as f:
        return f.read()


@dsl.component
def square(x: int) -> int:
    import time

    time.sleep(1)
    return x * x


@dsl.pipeline(name="multinode-fan-out")
def fan_out(text: str = "ab") -> str:
    made = make_data(text=text).set_accelerator_type("worker_node").set_accelerator_limit(1)
    read = read_data(data=made.outputs["data"]).set_accelerator_type("head_node").set_accelerator_limit(1)
    with dsl.ParallelFor([1, 2, 3, 4, 5, 6]) as x:
        square(x=x)
    return read.output


@dsl.component
def too_big() -> None:
    pass


@dsl.pipeline(name="multinode-too-big")
def big() -> None:
    too_big().set_cpu_request("3")  # each node has 2 CPUs, the cluster 4


@dsl.component
def slow_marker(seconds: int) -> str:
    import time

    print("started", flush=True)
    time.sleep(seconds)
    return "done"


@dsl.pipeline(name="multinode-node-loss")
def node_loss(seconds: int = 20) -> None:
    # Spread over the two nodes: one of the two runs on the worker.
    with dsl.ParallelFor([1, 2]):
        slow_marker(seconds=seconds).set_caching_options(False)


# ---------------------------------------------------------------- helpers


def _submit(dep: Deployment, pipeline: Any, tmp_path: Path, args: dict[str, Any] | None = None) -> str:
    import kfp

    package = tmp_path / f"{uuid.uuid4().hex}.yaml"
    compiler.Compiler().compile(pipeline, str(package))
    run = kfp.Client(host=dep.url, existing_token=TOKEN).create_run_from_pipeline_package(str(package), arguments=args or {})
    return str(run.run_id)


def _final(dep: Deployment, run_id: str) -> dict[str, Any]:
    with dep.http() as http:
        def done() -> dict[str, Any] | None:
            body: dict[str, Any] = http.get(f"/apis/v2beta1/runs/{run_id}").json()
            return body if body.get("state") in ("SUCCEEDED", "FAILED", "CANCELED") else None

        result: dict[str, Any] = _wait(f"run {run_id}", done, dep.log)
        return result


def _tasks(dep: Deployment, run_id: str) -> list[dict[str, Any]]:
    with dep.http() as http:
        tasks: list[dict[str, Any]] = http.get(f"/apis/pipeyard/v1/runs/{run_id}/tasks").json()["tasks"]
        return tasks


def _ips(task: dict[str, Any]) -> list[str]:
    attempts = (task.get("details") or {}).get("attempts") or {}
    return [a["ray_node_ip"] for _, a in sorted(attempts.items())]


# ---------------------------------------------------------------- tests


def test_fan_out_on_both_nodes_through_the_bucket_then_cached(deployment: Deployment, tmp_path: Path) -> None:
    dep, cluster = deployment, deployment.cluster
    run_id = _submit(dep, fan_out, tmp_path, {"text": "xy"})
    run = _final(dep, run_id)
    tasks = {t["path"]: t for t in _tasks(dep, run_id)}
    assert run["state"] == "SUCCEEDED", [(p, t["state"], t.get("error")) for p, t in tasks.items()]
    assert _ips(tasks["make-data"]) == [cluster.worker_ip]
    assert _ips(tasks["read-data"]) == [cluster.head_ip]
    # The worker never saw the driver's files: what it made reached the head through the bucket.
    (artifact,) = tasks["make-data"]["outputs"]["artifacts"]["data"]
    assert artifact["uri"].startswith(f"{ROOT}/")
    assert dep.fs().cat_file(artifact["uri"][len("s3://"):]) == b"xyxyxy"
    assert tasks["read-data"]["outputs"]["parameters"]["Output"] == "xyxyxy"
    (consumed,) = tasks["read-data"]["inputs"]["artifacts"]["data"]
    assert consumed["uri"] == artifact["uri"]
    squares = [t for t in tasks.values() if t["name"] == "square"]
    assert sorted(t["outputs"]["parameters"]["Output"] for t in squares) == [1, 4, 9, 16, 25, 36]
    assert {ip for t in squares for ip in _ips(t)} == {cluster.head_ip, cluster.worker_ip}
    # Lineage as in a local run: the artifact names its producer and its consumer.
    with dep.http() as http:
        lineage = http.get(f"/apis/pipeyard/v1/artifacts/{artifact['artifact_id']}").json()
    assert tasks["make-data"]["task_id"] in str(lineage) and tasks["read-data"]["task_id"] in str(lineage)
    # A second run: every task from the cache, nothing placed anywhere.
    again = _submit(dep, fan_out, tmp_path, {"text": "xy"})
    assert _final(dep, again)["state"] == "SUCCEEDED"
    containers = [t for t in _tasks(dep, again) if t["kind"] == "CONTAINER"]
    assert containers and all(t["cached"] for t in containers), [(t["path"], t["cached"]) for t in containers]


def test_a_request_no_node_can_hold_is_refused(deployment: Deployment, tmp_path: Path) -> None:
    run_id = _submit(deployment, big, tmp_path)
    run = _final(deployment, run_id)
    assert run["state"] == "FAILED"
    (task,) = [t for t in _tasks(deployment, run_id) if t["name"] == "too-big"]
    assert "task requests 3 CPUs but the largest node of the Ray cluster has 2" in task["error"]


def _executors_in(ns: str) -> list[int]:
    out = subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True).stdout
    found = []
    for pid in out.split():
        with contextlib.suppress(OSError):
            if b"kfp.dsl.executor_main" in Path(f"/proc/{pid}/cmdline").read_bytes():
                found.append(int(pid))
    return found


def test_killed_worker_node_the_task_succeeds_on_the_head(deployment: Deployment, tmp_path: Path) -> None:
    # Last in this module (the worker node does not come back): see conftest's ordering.
    dep, cluster = deployment, deployment.cluster
    run_id = _submit(dep, node_loss, tmp_path, {"seconds": 20})
    _wait("a task running on the worker node", lambda: _executors_in(cluster.worker_ns), dep.log)

    def both_started() -> bool:
        markers = [t for t in _tasks(dep, run_id) if t["name"] == "slow-marker"]
        with dep.http() as http:
            logs = [http.get(f"/apis/pipeyard/v1/runs/{run_id}/tasks/{t['task_id']}/log").text for t in markers]
        return len(logs) == 2 and all("started" in log for log in logs)

    # Both print before they sleep: the worker's line has streamed back before it dies.
    _wait("both tasks to print", both_started, dep.log)
    cluster.kill_namespace(cluster.worker_ns)
    run = _final(dep, run_id)
    assert run["state"] == "SUCCEEDED", run
    markers = [t for t in _tasks(dep, run_id) if t["name"] == "slow-marker"]
    assert [t["outputs"]["parameters"]["Output"] for t in markers] == ["done", "done"]
    (lost,) = [t for t in markers if "lost" in next(iter(t["details"]["attempts"].values()))]
    (attempt,) = lost["details"]["attempts"].values()
    assert [t["ray_node_ip"] for t in attempt["tries"]] == [cluster.worker_ip, cluster.head_ip]
    assert f"the Ray node {cluster.worker_ip}" in attempt["lost"]
    with dep.http() as http:
        log = http.get(f"/apis/pipeyard/v1/runs/{run_id}/tasks/{lost['task_id']}/log").text
    # What the lost node streamed is still in the log, then the loss and the resubmission.
    assert log.count("started") == 2, log
    assert f"the Ray node {cluster.worker_ip}" in log and "resubmitting it once" in log, log
