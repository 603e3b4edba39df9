"""What test_multinode_ray.py runs against: the two-node Ray cluster of netns_cluster.py,
moto's S3 server and a `pipeyard server` on the head (PostgreSQL through a forwarder),
all started at once, plus the helpers its tests share (submit, wait, read tasks)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import s3fs
import sqlalchemy as sa
from tests.integration.conftest import postgres_schema_url
from tests.integration.netns_cluster import S3_PORT, Cluster, two_node_cluster

BUCKET = "cluster"
ROOT = f"s3://{BUCKET}/root"
SERVER_PORT = 8888
# Guards against a hung cluster on a loaded machine, not performance assertions.
DEADLINE_SECONDS = 300.0
_SRC = str(Path(__file__).resolve().parents[2] / "src")
# A server bound beyond loopback requires a token.
TOKEN = uuid.uuid4().hex
AUTH = {"Authorization": f"Bearer {TOKEN}"}
S3_ENV = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": "us-east-1"}


def wait_for(what: str, check: Callable[[], Any], log: Path | None = None,
             timeout: float = DEADLINE_SECONDS) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError, OSError):
            value = check()
            if value:
                return value
        time.sleep(0.2)
    tail = log.read_text(errors="replace")[-4000:] if log and log.exists() else ""
    pytest.fail(f"timed out waiting for {what}\n{tail}")


@dataclass
class Deployment:
    cluster: Cluster
    url: str
    log: Path
    server_env: dict[str, str]
    server: subprocess.Popen[bytes] | None = None
    others: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def http(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30, headers=AUTH)

    def fs(self) -> Any:
        return s3fs.S3FileSystem(skip_instance_cache=True, key="test", secret="test",
                                 client_kwargs={"endpoint_url": self.cluster.s3_endpoint})

    def start_server(self) -> None:
        cluster = self.cluster
        self.server = cluster.popen(cluster.head_ns, [sys.executable, "-m", "pipeyard.server.main", "--host",
                                                      cluster.head_outer_ip, "--port", str(SERVER_PORT)],
                                    self.log, self.server_env)

    def wait_healthy(self) -> None:
        def healthy() -> bool:
            server = self.server
            assert server is not None
            if server.poll() is not None:
                pytest.fail(f"the server exited with {server.returncode}:\n"
                            f"{self.log.read_text(errors='replace')[-3000:]}")
            return httpx.get(f"{self.url}/apis/v2beta1/healthz", headers=AUTH, timeout=2).status_code == 200

        wait_for("the server", healthy, self.log)

    def kill_server(self) -> None:
        """SIGKILL the server (its `sh` wrapper's whole group): a crash, no shutdown."""
        if self.server is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.server.pid, signal.SIGKILL)
        self.server.wait()
        self.server = None

    def final(self, run_id: str) -> dict[str, Any]:
        with self.http() as http:
            def done() -> dict[str, Any] | None:
                body: dict[str, Any] = http.get(f"/apis/v2beta1/runs/{run_id}").json()
                return body if body.get("state") in ("SUCCEEDED", "FAILED", "CANCELED") else None

            result: dict[str, Any] = wait_for(f"run {run_id}", done, self.log)
            return result

    def tasks(self, run_id: str) -> list[dict[str, Any]]:
        with self.http() as http:
            tasks: list[dict[str, Any]] = http.get(f"/apis/pipeyard/v1/runs/{run_id}/tasks").json()["tasks"]
            return tasks

    def task_log(self, run_id: str, task_id: str) -> str:
        with self.http() as http:
            return http.get(f"/apis/pipeyard/v1/runs/{run_id}/tasks/{task_id}/log").text


def kill_group(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


@contextlib.contextmanager
def deployment(postgres_url: str) -> Iterator[Deployment]:
    base = Path(f"/tmp/pym{os.getpid()}")  # short: Ray's socket paths must fit 107 bytes
    base.mkdir(exist_ok=True)
    home = base / "home"
    home.mkdir(exist_ok=True)
    with contextlib.ExitStack() as stack:
        stack.callback(lambda: subprocess.run(["rm", "-rf", str(base)], check=False))
        schema_url = stack.enter_context(postgres_schema_url(postgres_url))
        made: list[Deployment] = []

        def beside_ray(cluster: Cluster) -> None:
            # S3 and the server start while the Ray nodes do: the server connects to
            # Ray only when it launches its first task.
            url = sa.make_url(schema_url)
            port = cluster.forward_postgres(url.host or "127.0.0.1", url.port or 5432)
            db = url.set(host=cluster.root_ip, port=port).render_as_string(hide_password=False)
            server_env = {"PIPEYARD_HOME": str(home), "PIPEYARD_DATABASE_URL": db, "PIPEYARD_LAUNCHER": "ray",
                          "PIPEYARD_RAY_ADDRESS": cluster.ray_address, "PIPEYARD_PIPELINE_ROOT": ROOT,
                          "PYTHONUNBUFFERED": "1", "PIPEYARD_AUTH_TOKEN": TOKEN}
            dep = Deployment(cluster, f"http://{cluster.head_outer_ip}:{SERVER_PORT}", base / "server.log",
                             server_env)
            made.append(dep)
            dep.others.append(cluster.popen(cluster.head_ns, [sys.executable, "-m", "moto.server", "-H",
                                                              cluster.head_ip, "-p", str(S3_PORT)],
                                            base / "moto.log"))
            dep.start_server()
            wait_for("the S3 endpoint", lambda: httpx.get(cluster.s3_endpoint, timeout=2).status_code < 500)
            dep.fs().mkdir(BUCKET)
            dep.wait_healthy()

        def stop() -> None:
            for dep in made:
                dep.kill_server()
                for proc in dep.others:
                    kill_group(proc)

        stack.callback(stop)  # before the cluster's teardown kills what is left
        env = {**S3_ENV, "PYTHONPATH": _SRC}
        stack.enter_context(two_node_cluster(base, home, env, meanwhile=beside_ray))
        (dep,) = made
        yield dep
