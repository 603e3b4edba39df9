"""Two "machines" on this one: network namespaces with veth pairs, for the multi-node
Ray test (test_multinode_ray.py) and benchmarks/ray_nodes.py.

    root ns  10.N.1.1 ── veth ── 10.N.1.2  head ns  10.N.2.1 ── veth ── 10.N.2.2  worker ns

The head ns runs the Ray head, moto's S3 server and the pipeyard server (the driver
must sit on a Ray node). The worker reaches only the head's 10.N.2.1, over its veth
(the head ns does not forward). The root ns reaches both of the head's addresses
(a route to 10.N.2.0/24 via the head), and forwards 10.N.1.1:PORT to the
PostgreSQL on its loopback. The worker runs in a mount namespace of its own with a
tmpfs over the driver's PIPEYARD_HOME, so it sees none of the driver's files: its
artifacts can only come through the bucket.

Everything started is killed by netns (``ip netns pids``), then the namespaces and
the route are deleted.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

RAY_PORT = 6379
START_TRIES = 3
S3_PORT = 5000
# Fixed agent ports (the namespaces are private): without them a raylet on a loaded
# machine gives up waiting for its agent's port file.
_AGENT_PORTS = ("--dashboard-agent-grpc-port=52365", "--dashboard-agent-listen-port=52366",
                "--metrics-export-port=52367", "--runtime-env-agent-port=52368")
RAY_ENV = {
    # The cluster's network is private to this test; Ray's token file lives in the
    # shared ~/.ray, which other local clusters may rewrite.
    "RAY_AUTH_MODE": "disabled",
    "RAY_USAGE_STATS_ENABLED": "0",
    "RAY_agent_register_timeout_ms": "180000",
    "RAY_raylet_start_wait_time_s": "180",
    # The worker starts beside the head (not after it): it waits this long for the
    # head's GCS to answer (one try a second) instead of Ray's default 20 s.
    "RAY_gcs_server_port_wait_time_s": "600",
}
# What the tests never use, so never started: the autoscaler's monitor, the log
# monitor (task output comes back through the launcher's own stream) and, but for a
# minimal API server, the dashboard. Each is a Python process that imports half of
# Ray: on two shared cores they are much of the start. (Ray refuses to go without
# its client server: --ray-client-server-port must be a port.)
_LEAN = ("--disable-usage-stats", "--include-log-monitor=false", "--object-store-memory=100000000")
_LEAN_HEAD = ("--include-dashboard=false", "--no-monitor")


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True)


def netns_available() -> str | None:
    """None when network namespaces can be made here, else why not."""
    name = f"pyt{os.getpid()}"
    try:
        _ip("netns", "add", name)
    except (OSError, subprocess.CalledProcessError) as e:
        detail = getattr(e, "stderr", b"") or b""
        return f"cannot create a network namespace (ip netns add): {e} {detail.decode(errors='replace')}"
    _ip("netns", "del", name)
    return None


class _Forwarder:
    """Forwards TCP from ``listen`` to ``target`` (both in the root ns), in threads."""

    def __init__(self, listen: tuple[str, int], target: tuple[str, int]) -> None:
        self.target = target
        self.server = socket.create_server(listen, reuse_port=False)
        self.port = int(self.server.getsockname()[1])
        self._stop = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._stop:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(a: socket.socket, b: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := a.recv(65536):
                b.sendall(data)
        for s in (a, b):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()  # idempotent: the other direction's thread closes them too

    def close(self) -> None:
        self._stop = True
        self.server.close()


@dataclass
class Cluster:
    base: Path  # per-cluster scratch: ray temp dirs, logs
    home: Path  # the driver's PIPEYARD_HOME, hidden from the worker
    env: dict[str, str]  # for every node: Ray settings, S3 credentials, PYTHONPATH
    suffix: str = field(default_factory=lambda: str(os.getpid() % 100000))
    octet: int = field(default_factory=lambda: 100 + os.getpid() % 100)
    forwarders: list[_Forwarder] = field(default_factory=list)

    @property
    def head_ns(self) -> str:
        return f"pyh{self.suffix}"

    @property
    def worker_ns(self) -> str:
        return f"pyw{self.suffix}"

    @property
    def root_ip(self) -> str:
        return f"10.{self.octet}.1.1"

    @property
    def head_outer_ip(self) -> str:
        return f"10.{self.octet}.1.2"

    @property
    def head_ip(self) -> str:
        return f"10.{self.octet}.2.1"

    @property
    def worker_ip(self) -> str:
        return f"10.{self.octet}.2.2"

    @property
    def ray_address(self) -> str:
        return f"{self.head_ip}:{RAY_PORT}"

    @property
    def s3_endpoint(self) -> str:
        return f"http://{self.head_ip}:{S3_PORT}"

    # ------------------------------------------------------------------ network

    def create_network(self) -> None:
        h, w, s, n = self.head_ns, self.worker_ns, self.suffix, self.octet
        _ip("netns", "add", h)
        _ip("netns", "add", w)
        _ip("link", "add", f"pyr{s}", "type", "veth", "peer", "name", f"pyhr{s}")
        _ip("link", "set", f"pyhr{s}", "netns", h)
        _ip("addr", "add", f"{self.root_ip}/24", "dev", f"pyr{s}")
        _ip("link", "set", f"pyr{s}", "up")
        _ip("-n", h, "addr", "add", f"{self.head_outer_ip}/24", "dev", f"pyhr{s}")
        _ip("-n", h, "link", "set", f"pyhr{s}", "up")
        _ip("link", "add", f"pyhw{s}", "netns", h, "type", "veth", "peer", "name", f"pywh{s}", "netns", w)
        _ip("-n", h, "addr", "add", f"{self.head_ip}/24", "dev", f"pyhw{s}")
        _ip("-n", h, "link", "set", f"pyhw{s}", "up")
        _ip("-n", w, "addr", "add", f"{self.worker_ip}/24", "dev", f"pywh{s}")
        _ip("-n", w, "link", "set", f"pywh{s}", "up")
        for ns in (h, w):
            _ip("-n", ns, "link", "set", "lo", "up")
        # Ray finds a node's address from the default route: the head's must be 10.N.2.1.
        _ip("-n", h, "route", "add", "default", "via", self.worker_ip)
        _ip("-n", w, "route", "add", "default", "via", self.head_ip)
        _ip("route", "add", f"10.{n}.2.0/24", "via", self.head_outer_ip)

    def forward_postgres(self, host: str, port: int) -> int:
        """A port on ``root_ip`` that reaches the PostgreSQL at host:port."""
        forwarder = _Forwarder((self.root_ip, 0), (host, port))
        self.forwarders.append(forwarder)
        return forwarder.port

    # ------------------------------------------------------------------ processes

    def popen(self, ns: str, argv: list[str], log: Path, env: Mapping[str, str] | None = None,
              *, hide_home: bool = False) -> subprocess.Popen[bytes]:
        full_env = {**os.environ, **RAY_ENV, **self.env, **(env or {})}
        command = shlex.join(argv)
        if hide_home:
            # ip netns exec gives the command a mount namespace of its own (a slave
            # of the host's), so this tmpfs is seen by the worker's processes only.
            command = f"mount -t tmpfs pipeyard-worker-home {shlex.quote(str(self.home))} && exec {command}"
        with log.open("ab") as out:
            return subprocess.Popen(["ip", "netns", "exec", ns, "sh", "-c", command], env=full_env,
                                    stdout=out, stderr=subprocess.STDOUT, start_new_session=True)

    def ray_start(self, ns: str, node_ip: str, *, head: bool, cpus: int, resources: str = "{}",
                  hide_home: bool = False, abort: threading.Event | None = None) -> None:
        """Start a node, again from nothing after a failure, unless ``abort`` is set."""
        import sys

        ray = str(Path(sys.executable).parent / "ray")
        argv = [ray, "start", f"--node-ip-address={node_ip}", f"--num-cpus={cpus}", f"--resources={resources}",
                f"--temp-dir={self.base / ns}", *_LEAN, *_AGENT_PORTS]
        if head:
            argv += ["--head", f"--port={RAY_PORT}", *_LEAN_HEAD]
        else:
            argv += [f"--address={self.ray_address}"]
        log = self.base / f"ray-{ns}.log"
        # On a heavily loaded machine a raylet may give up waiting for its agents
        # (Ray's own start-up timeouts): start that node again from nothing.
        for _ in range(START_TRIES):
            if abort is not None and abort.is_set():
                raise RuntimeError(f"ray start in {ns} abandoned: the other node failed to start")
            proc = self.popen(ns, argv, log, hide_home=hide_home)
            try:
                # `ray start` returns once its node is up (its daemons stay in the netns).
                if proc.wait(timeout=600) == 0:
                    return
            finally:
                if proc.poll() is None:  # interrupted: no unwaited child left behind
                    proc.kill()
                    proc.wait()
            # Ray's daemons stay in the session of the `ray start` that made them;
            # what else runs in the namespace (the server, S3) is left alone.
            self.kill_namespace(ns, session=proc.pid)
            shutil.rmtree(self.base / ns, ignore_errors=True)
        raise RuntimeError(f"ray start in {ns} failed {START_TRIES} times:\n{log.read_text()[-3000:]}")

    def start_ray_nodes(self, cpus: int, meanwhile: Callable[[], None] = lambda: None) -> None:
        """Head (resource ``head_node``), then worker (``worker_node``); ``meanwhile`` runs
        while they start. The worker starts only once the head's `ray start` returned: a
        worker that reaches the GCS before the head's node registered there fails at once
        ("No node info found for head node in GCS"), and on a loaded machine it did so on
        every retry."""
        errors: list[BaseException] = []
        failed = threading.Event()
        head_up = threading.Event()

        def start(ns: str, ip: str, head: bool, resources: str) -> None:
            try:
                if not head:
                    while not head_up.wait(0.2):
                        if failed.is_set():
                            return
                self.ray_start(ns, ip, head=head, cpus=cpus, resources=resources, hide_home=not head,
                               abort=failed)
                if head:
                    head_up.set()
            except BaseException as e:  # re-raised below, on the caller's thread
                errors.append(e)
                failed.set()
                if head:  # the worker would wait for this head's GCS for minutes
                    self.kill_namespace(self.worker_ns)

        threads = [threading.Thread(target=start, args=args, daemon=True) for args in (
            (self.head_ns, self.head_ip, True, '{"head_node": 100}'),
            (self.worker_ns, self.worker_ip, False, '{"worker_node": 100}'))]
        for thread in threads:
            thread.start()
        try:
            meanwhile()
        finally:
            for thread in threads:
                thread.join()
        if errors:
            raise errors[0]

    def pids(self, ns: str) -> list[int]:
        out = subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True).stdout
        return [int(p) for p in out.split()]

    def kill_namespace(self, ns: str, *, session: int | None = None) -> None:
        """SIGKILL every process in ``ns`` (a machine losing power), or only those of
        ``session``, until none is left."""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            pids = self.pids(ns)
            if session is not None:
                pids = [p for p in pids if _session_of(p) == session]
            if not pids:
                return
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, 9)
            time.sleep(0.1)

    def teardown(self) -> None:
        for ns in (self.worker_ns, self.head_ns):
            with contextlib.suppress(Exception):
                self.kill_namespace(ns)
        for forwarder in self.forwarders:
            forwarder.close()
        with contextlib.suppress(subprocess.CalledProcessError):
            _ip("route", "del", f"10.{self.octet}.2.0/24")
        for ns in (self.worker_ns, self.head_ns):
            with contextlib.suppress(subprocess.CalledProcessError):
                _ip("netns", "del", ns)  # removes its veth ends, and so their peers
        with contextlib.suppress(subprocess.CalledProcessError):
            _ip("link", "del", f"pyr{self.suffix}")


def _session_of(pid: int) -> int | None:
    try:
        return os.getsid(pid)
    except OSError:
        return None


@contextlib.contextmanager
def two_node_cluster(base: Path, home: Path, env: Mapping[str, str], *, cpus: int = 2,
                     meanwhile: Callable[[Cluster], None] = lambda cluster: None) -> Iterator[Cluster]:
    """Network, Ray head (resource ``head_node``) and worker (``worker_node``); their
    processes get ``env`` and the S3 endpoint the head will serve (``s3_endpoint``).
    ``meanwhile`` runs once the network exists, while the Ray nodes start."""
    cluster = Cluster(base, home, dict(env))
    cluster.env["AWS_ENDPOINT_URL"] = cluster.s3_endpoint
    try:
        cluster.create_network()
        cluster.start_ray_nodes(cpus, lambda: meanwhile(cluster))
        yield cluster
    finally:
        cluster.teardown()
