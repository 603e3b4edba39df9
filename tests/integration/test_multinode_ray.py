"""A Ray cluster of two nodes in network namespaces (netns_cluster.py), a pipeyard
server on the head with PostgreSQL, and moto's S3 as the pipeline root
(multinode_deployment.py): a fan-out runs on both nodes, an artifact made on the
worker is read on the head through the bucket, a second run is cached, a request no
node can hold is refused, packages_to_install comes from an index served on the
head, a cancelled run leaves no process on any node, a killed server resumes
rerunning only what had not finished, and a task whose node is killed mid-run
succeeds on the remaining node. One cluster for the whole module."""

# No `from __future__ import annotations`: kfp reads component signatures at runtime.
import contextlib
import functools
import importlib.util
import os
import signal
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import moto.server  # noqa: F401  (a dev dependency: missing fails, never skips)
import pytest
import ray  # noqa: F401  (the ray extra is part of dev: missing fails)
from kfp import compiler, dsl
from kfp.dsl import Dataset, Input, Output
from tests.integration.conftest import POSTGRES_ENV
from tests.integration.multinode_deployment import (
    BUCKET,
    DEADLINE_SECONDS,
    ROOT,
    TOKEN,
    Deployment,
    wait_for,
)
from tests.integration.multinode_deployment import deployment as start_deployment
from tests.integration.multinode_index import PACKAGE, serve_index
from tests.integration.netns_cluster import netns_available
from tests.support.processes import gone, wait_until

# Starting two Ray nodes takes seconds on a quiet machine, minutes on a loaded one
# (Ray's start-up is mostly Python imports): above pytest-timeout's default.
pytestmark = [pytest.mark.xdist_group("ray"), pytest.mark.timeout(1500)]


@pytest.fixture(scope="module")
def deployment() -> Iterator[Deployment]:
    reason = netns_available()
    if reason is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must run the multi-node test: {reason}")
        pytest.skip(reason)
    pg = os.environ.get(POSTGRES_ENV)
    if not pg:
        pytest.fail(f"{POSTGRES_ENV} is not set: the multi-node test needs PostgreSQL")
    with start_deployment(pg) as dep:
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
def mark(prefix: str, step: str, hold: bool) -> str:
    """Records each execution in the bucket (its pid, a child's, its parent's: the Ray
    worker), then, if ``hold``, waits until the test puts ``PREFIX/go`` there."""
    import os
    import subprocess
    import time
    import uuid

    import s3fs  # the workers' own; the bucket's endpoint and keys are in their env

    child = subprocess.Popen(["sleep", "900"])  # in the task's process group
    fs = s3fs.S3FileSystem(skip_instance_cache=True)
    fs.pipe_file(f"{prefix}/{step}/{uuid.uuid4().hex}", f"{os.getpid()} {child.pid} {os.getppid()}".encode())
    print(f"{step} running", flush=True)
    while hold and not fs.exists(f"{prefix}/go"):
        time.sleep(0.2)
    child.kill()
    child.wait()
    return step


@dsl.pipeline(name="multinode-resume")
def three_steps(prefix: str) -> None:
    first = mark(prefix=prefix, step="first", hold=False).set_caching_options(False)
    second = mark(prefix=prefix, step="second", hold=True).set_caching_options(False).after(first)
    mark(prefix=prefix, step="third", hold=False).set_caching_options(False).after(second)


@dsl.pipeline(name="multinode-cancel")
def held_on_both(prefix: str) -> None:
    mark(prefix=prefix, step="on-worker", hold=True).set_caching_options(False) \
        .set_accelerator_type("worker_node").set_accelerator_limit(1)
    mark(prefix=prefix, step="on-head", hold=True).set_caching_options(False) \
        .set_accelerator_type("head_node").set_accelerator_limit(1)


def probe_version() -> str:
    import pyprobe_tiny  # only in the index served on the head

    return f"{pyprobe_tiny.VALUE} {pyprobe_tiny.__file__}"


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
    client = kfp.Client(host=dep.url, existing_token=TOKEN)
    run = client.create_run_from_pipeline_package(str(package), arguments=args or {})
    return str(run.run_id)


def _ips(task: dict[str, Any]) -> list[str]:
    attempts = (task.get("details") or {}).get("attempts") or {}
    return [a["ray_node_ip"] for _, a in sorted(attempts.items())]


def _marks(dep: Deployment, prefix: str, step: str) -> list[tuple[int, int, int]]:
    """(task pid, child pid, Ray worker pid) of every execution of ``step``."""
    fs = dep.fs()
    with contextlib.suppress(FileNotFoundError):
        pids = [fs.cat_file(path).split() for path in fs.ls(f"{prefix}/{step}")]
        return [(int(task), int(child), int(worker)) for task, child, worker in pids]
    return []


def _running_in(dep: Deployment, ns: str, needle: bytes) -> list[int]:
    found = []
    for pid in dep.cluster.pids(ns):
        with contextlib.suppress(OSError):
            if needle in Path(f"/proc/{pid}/cmdline").read_bytes():
                found.append(pid)
    return found


# ---------------------------------------------------------------- tests


def test_fan_out_on_both_nodes_through_the_bucket_then_cached(deployment: Deployment, tmp_path: Path) -> None:
    dep, cluster = deployment, deployment.cluster
    run_id = _submit(dep, fan_out, tmp_path, {"text": "xy"})
    run = dep.final(run_id)
    tasks = {t["path"]: t for t in dep.tasks(run_id)}
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
    assert dep.final(again)["state"] == "SUCCEEDED"
    containers = [t for t in dep.tasks(again) if t["kind"] == "CONTAINER"]
    assert containers and all(t["cached"] for t in containers), [(t["path"], t["cached"]) for t in containers]


def test_a_request_no_node_can_hold_is_refused(deployment: Deployment, tmp_path: Path) -> None:
    run_id = _submit(deployment, big, tmp_path)
    run = deployment.final(run_id)
    assert run["state"] == "FAILED"
    (task,) = [t for t in deployment.tasks(run_id) if t["name"] == "too-big"]
    assert "task requests 3 CPUs but the largest node of the Ray cluster has 2" in task["error"]


def test_packages_to_install_from_an_index_on_the_head(deployment: Deployment, tmp_path: Path) -> None:
    # The worker reaches nothing but the head: the index is served there, as a KFP
    # user points pip_index_urls at a mirror.
    dep, cluster = deployment, deployment.cluster
    with serve_index(cluster, tmp_path) as index_url:
        probe = dsl.component(probe_version, packages_to_install=[PACKAGE], pip_index_urls=[index_url])

        @dsl.pipeline(name="multinode-packages")
        def packages() -> None:
            first = probe().set_caching_options(False).set_accelerator_type("worker_node").set_accelerator_limit(1)
            probe().set_caching_options(False).set_accelerator_type("worker_node").set_accelerator_limit(1) \
                .after(first)

        run_id = _submit(dep, packages, tmp_path)
        run = dep.final(run_id)
        tasks = [t for t in dep.tasks(run_id) if t["kind"] == "CONTAINER"]
    assert run["state"] == "SUCCEEDED", [(t["path"], t.get("error"), dep.task_log(run_id, t["task_id"]))
                                         for t in tasks]
    outputs = [t["outputs"]["parameters"]["Output"].split(" ") for t in tasks]
    assert [value for value, _ in outputs] == ["tiny-ok", "tiny-ok"]
    assert {ip for t in tasks for ip in _ips(t)} == {cluster.worker_ip}
    # Installed into one venv on the worker (its Ray session dir), for both tasks; the
    # driver's Python (the environment pipeyard runs in) did not get it.
    (where,) = {path for _, path in outputs}
    assert where.startswith(str(cluster.base / cluster.worker_ns)) and "/pipeyard-envs/venv-" in where, where
    assert importlib.util.find_spec("pyprobe_tiny") is None


def test_cancel_leaves_no_task_process_on_any_node(deployment: Deployment, tmp_path: Path) -> None:
    dep, cluster = deployment, deployment.cluster
    prefix = f"{BUCKET}/cancel-{uuid.uuid4().hex}"
    run_id = _submit(dep, held_on_both, tmp_path, {"prefix": prefix})
    pids: list[int] = []
    for step, ns in (("on-worker", cluster.worker_ns), ("on-head", cluster.head_ns)):
        ((task_pid, child_pid, _),) = wait_for(f"{step} to start", functools.partial(_marks, dep, prefix, step),
                                            dep.log)
        assert {task_pid, child_pid} <= set(cluster.pids(ns)), (step, ns)
        pids += [task_pid, child_pid]
    with dep.http() as http:
        assert http.post(f"/apis/v2beta1/runs/{run_id}:terminate").status_code == 200
    assert dep.final(run_id)["state"] == "CANCELED"
    # The task, the child in its group, and the Ray task itself are gone from both nodes.
    wait_until(lambda: all(gone(pid) for pid in pids), f"processes {pids} of the cancelled run to be gone",
               DEADLINE_SECONDS)
    namespaces = (cluster.worker_ns, cluster.head_ns)
    wait_until(lambda: not any(_running_in(dep, ns, b"kfp.dsl.executor_main") for ns in namespaces),
               "no executor left on either node", DEADLINE_SECONDS)
    wait_until(lambda: not any(_running_in(dep, ns, b"ray::_run_attempt") for ns in namespaces),
               "no Ray attempt task left on either node", DEADLINE_SECONDS)
    assert not _marks(dep, prefix, "go")  # they were stopped, not released


@dsl.pipeline(name="multinode-worker-crash")
def held_on_worker(prefix: str) -> None:
    mark(prefix=prefix, step="held", hold=True).set_caching_options(False) \
        .set_accelerator_type("worker_node").set_accelerator_limit(1)


def test_a_killed_ray_worker_takes_its_task_group_along(deployment: Deployment, tmp_path: Path) -> None:
    # SIGKILL the Ray worker process running a task: it runs no cleanup, so only the
    # launcher's watchdog on that node can stop the task's group (its own session).
    dep, cluster = deployment, deployment.cluster
    prefix = f"{BUCKET}/crash-{uuid.uuid4().hex}"
    run_id = _submit(dep, held_on_worker, tmp_path, {"prefix": prefix})
    ((task_pid, child_pid, worker_pid),) = wait_for("the task to start", lambda: _marks(dep, prefix, "held"),
                                                    dep.log)
    assert {task_pid, child_pid, worker_pid} <= set(cluster.pids(cluster.worker_ns))
    assert os.getsid(task_pid) == task_pid != os.getsid(worker_pid)
    os.kill(worker_pid, signal.SIGKILL)
    wait_until(lambda: gone(task_pid) and gone(child_pid), "the dead Ray worker's task group to be gone",
               DEADLINE_SECONDS)
    # The attempt failed with its worker; without a retry policy it is resubmitted once.
    wait_for("the resubmitted task to start", lambda: len(_marks(dep, prefix, "held")) == 2, dep.log)
    dep.fs().pipe_file(f"{prefix}/go", b"")
    run = dep.final(run_id)
    (task,) = [t for t in dep.tasks(run_id) if t["name"] == "mark"]
    assert run["state"] == "SUCCEEDED", (task.get("error"), dep.task_log(run_id, task["task_id"]))
    (attempt,) = task["details"]["attempts"].values()
    assert [t["ray_node_ip"] for t in attempt["tries"]] == [cluster.worker_ip, cluster.worker_ip]
    # Its node lived on: the first try's end names the dead worker process, not a lost node.
    assert f"the Ray worker process running this attempt on node {cluster.worker_ip}" in attempt["lost"]
    assert "the node is still alive" in attempt["lost"]


def test_killed_server_resumes_rerunning_only_unfinished_tasks(deployment: Deployment, tmp_path: Path) -> None:
    dep = deployment
    prefix = f"{BUCKET}/resume-{uuid.uuid4().hex}"
    run_id = _submit(dep, three_steps, tmp_path, {"prefix": prefix})
    ((held_pid, held_child, _),) = wait_for("the second task to start", lambda: _marks(dep, prefix, "second"),
                                         dep.log)
    first_before = next(t for t in dep.tasks(run_id) if t["path"] == "mark")
    assert first_before["state"] == "SUCCEEDED"
    dep.kill_server()
    # Ray ends the dead driver's tasks; their process groups go with them.
    wait_until(lambda: gone(held_pid) and gone(held_child), "the killed server's task processes to be gone",
               DEADLINE_SECONDS)
    dep.fs().pipe_file(f"{prefix}/go", b"")
    dep.start_server()
    dep.wait_healthy()
    run = dep.final(run_id)
    tasks = {t["path"]: t for t in dep.tasks(run_id)}
    assert run["state"] == "SUCCEEDED", [(p, t["state"], t.get("error")) for p, t in tasks.items()]
    # The finished task was reused as it was; the interrupted one ran again, the last once.
    assert [len(_marks(dep, prefix, step)) for step in ("first", "second", "third")] == [1, 2, 1]
    first_after = tasks["mark"]
    assert (first_after["task_id"], first_after["started_at"], first_after["finished_at"]) == \
        (first_before["task_id"], first_before["started_at"], first_before["finished_at"])
    assert [tasks[p]["outputs"]["parameters"]["Output"] for p in ("mark", "mark-2", "mark-3")] == \
        ["first", "second", "third"]


def test_killed_worker_node_the_task_succeeds_on_the_head(deployment: Deployment, tmp_path: Path) -> None:
    # Last in this module (the worker node does not come back).
    dep, cluster = deployment, deployment.cluster
    run_id = _submit(dep, node_loss, tmp_path, {"seconds": 20})
    wait_for("a task running on the worker node",
             lambda: _running_in(dep, cluster.worker_ns, b"kfp.dsl.executor_main"), dep.log)

    def both_started_and_running() -> bool:
        markers = [t for t in dep.tasks(run_id) if t["name"] == "slow-marker"]
        logs = [dep.task_log(run_id, t["task_id"]) for t in markers]
        return len(logs) == 2 and all("started" in log for log in logs) and \
            all(t["state"] == "RUNNING" for t in markers)

    # Both print before they sleep: the worker's line streams back while it runs.
    wait_for("both tasks to print while running", both_started_and_running, dep.log)
    cluster.kill_namespace(cluster.worker_ns)
    run = dep.final(run_id)
    assert run["state"] == "SUCCEEDED", run
    markers = [t for t in dep.tasks(run_id) if t["name"] == "slow-marker"]
    assert [t["outputs"]["parameters"]["Output"] for t in markers] == ["done", "done"]
    (lost,) = [t for t in markers if "lost" in next(iter(t["details"]["attempts"].values()))]
    (attempt,) = lost["details"]["attempts"].values()
    assert [t["ray_node_ip"] for t in attempt["tries"]] == [cluster.worker_ip, cluster.head_ip]
    assert f"the Ray node {cluster.worker_ip}" in attempt["lost"]
    log = dep.task_log(run_id, lost["task_id"])
    # What the lost node streamed is still in the log, then the loss and the resubmission.
    assert log.count("started") == 2, log
    assert f"the Ray node {cluster.worker_ip}" in log and "resubmitting it once" in log, log
