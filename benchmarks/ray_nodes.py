"""A 200-task fan-out on a Ray cluster of one node, then of two: the wall time of
``pipeyard run --launcher ray`` on each, and their ratio.

Usage (as root, from the repository root; network namespaces as in the multi-node
test, tests/integration/netns_cluster.py)::

    .venv/bin/python benchmarks/ray_nodes.py               # 200 tasks of 200 ms
    .venv/bin/python benchmarks/ray_nodes.py --tasks 50 --cpus 2

Each task is a container component that sleeps 200 ms and asks for one CPU, so a
node started with ``--num-cpus=N`` runs N at a time whatever the host has: the
second node doubles the slots, which is what a second machine gives. (Both "nodes"
share this host's cores, so Ray's and the engine's own overhead are paid from the
same CPUs; on two real machines the ratio is better, not worse.) The driver runs
``pipeyard run`` in the head's namespace with a local pipeline root: tasks with
parameters only need no bucket, the worker gets its folders made and sends the
executor's files back.
"""

# No `from __future__ import annotations`: kfp reads component signatures at runtime.
import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from kfp import compiler, dsl

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.integration.netns_cluster import Cluster  # noqa: E402


@dsl.container_component
def nap(i: int):  # type: ignore[no-untyped-def]
    return dsl.ContainerSpec(image="busybox", command=["sh", "-c", "sleep 0.2; echo $0"], args=[i])


def fan_out(n: int):  # type: ignore[no-untyped-def]
    @dsl.pipeline(name=f"ray-fan-out-{n}")
    def pipeline():  # type: ignore[no-untyped-def]
        with dsl.ParallelFor(list(range(n)), parallelism=0):
            nap(i=0).set_cpu_request("1").set_caching_options(False)

    return pipeline


def _timed_run(cluster: Cluster, package: Path, home: Path) -> float:
    argv = [sys.executable, "-m", "pipeyard.cli.main", "run", str(package), "--launcher", "ray",
            "--no-cache", "--parallelism", "400"]
    env = {"PIPEYARD_HOME": str(home), "PIPEYARD_RAY_ADDRESS": cluster.ray_address}
    log = cluster.base / "run.log"
    started = time.perf_counter()
    proc = cluster.popen(cluster.head_ns, argv, log, env)
    code = proc.wait()
    elapsed = time.perf_counter() - started
    if code != 0:
        raise SystemExit(f"pipeyard run failed ({code}):\n{log.read_text()[-3000:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=200)
    parser.add_argument("--cpus", type=int, default=2, help="--num-cpus of each Ray node")
    args = parser.parse_args()
    load_before = os.getloadavg()
    base = Path(tempfile.mkdtemp(prefix="pyb", dir="/tmp"))
    home = base / "home"
    home.mkdir()
    package = base / "fan-out.yaml"
    compiler.Compiler().compile(fan_out(args.tasks), str(package))
    cluster = Cluster(base, home, {"PYTHONPATH": str(REPO / "src")})
    try:
        cluster.create_network()
        cluster.ray_start(cluster.head_ns, cluster.head_ip, head=True, cpus=args.cpus)
        one = _timed_run(cluster, package, home)
        cluster.ray_start(cluster.worker_ns, cluster.worker_ip, head=False, cpus=args.cpus, hide_home=True)
        two = _timed_run(cluster, package, home)
    finally:
        cluster.teardown()
        shutil.rmtree(base, ignore_errors=True)
    ideal = args.tasks * 0.2 / args.cpus
    # The host is shared: the load says how far these wall times can be trusted.
    print("load average (1, 5, 15 min) at the start: {:.2f} {:.2f} {:.2f}, at the end: {:.2f} {:.2f} {:.2f}"
          .format(*load_before, *os.getloadavg()))
    print(f"{args.tasks} tasks of 200 ms, {args.cpus} CPUs per node (one node ideal: {ideal:.1f} s)")
    print(f"one node:  {one:7.1f} s")
    print(f"two nodes: {two:7.1f} s")
    print(f"speed-up (one / two): {one / two:.2f}x")


if __name__ == "__main__":
    main()
