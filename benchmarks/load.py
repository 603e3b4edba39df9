"""Many runs at once through ``kfp.Client`` against a real ``pipeyard server``.

Submits N one-task runs from a pool of threads (as N users or a notebook loop would), while
another thread lists ``GET /apis/v2beta1/runs?page_size=50`` as the UI's runs page does, and
reports how long until every run finished, how many succeeded, the list's latency percentiles
during the load and the server's peak resident memory.
"""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from engines import scrubbed_env

FINAL = {"SUCCEEDED", "FAILED", "CANCELED", "SKIPPED"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """User + system CPU the process has used so far (/proc/<pid>/stat fields 14 and 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def load_average() -> float:
    """The one-minute load average: the numbers mean little on a busy machine without it."""
    return os.getloadavg()[0]


def peak_rss_mb(pid: int) -> float:
    """VmHWM: the process's resident high-water mark so far."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


@contextmanager
def server(
    cli: Path,
    home: Path,
    workers: int | None = None,
    timeout: float = 120,
    env: dict[str, str] | None = None,
    worker_nice: int | None = None,
) -> Iterator[tuple[str, int]]:
    """A pipeyard server on a free port of 127.0.0.1; stopped (by its pid) on exit. ``env``:
    PIPEYARD_* settings for it (the caller's own are not inherited). With ``worker_nice`` the
    server only serves the API and a ``pipeyard worker`` at that niceness executes the runs
    (the engine off the API's process and GIL)."""
    port = free_port()
    command = [str(cli), "server", "--port", str(port)]
    if worker_nice is not None:
        command += ["--workers", "0"]
    elif workers is not None:
        command += ["--workers", str(workers)]
    home.mkdir(parents=True, exist_ok=True)
    log = (home / "server.log").open("wb")
    full_env = scrubbed_env(**(env or {}), PIPEYARD_HOME=str(home))
    process = subprocess.Popen(command, env=full_env, stdout=log, stderr=log)
    worker: subprocess.Popen[bytes] | None = None
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"server exited with {process.returncode}; see {home / 'server.log'}")
            try:
                if httpx.get(f"{url}/apis/v2beta1/healthz", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"server did not answer within {timeout:.0f} s")
            time.sleep(0.2)
        if worker_nice is not None:
            # Started once the server made the database; it claims submitted runs by polling.
            worker_env = {"PIPEYARD_CLAIM_POLL_SECONDS": "0.5", **full_env}
            worker_command = ["nice", "-n", str(worker_nice), str(cli), "worker"]
            if workers is not None:
                worker_command += ["--workers", str(workers)]
            worker = subprocess.Popen(worker_command, env=worker_env, stdout=log, stderr=log)
        yield url, process.pid
    finally:
        for child in (worker, process):
            if child is None:
                continue
            child.terminate()
            try:
                child.wait(timeout=30)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        log.close()


@dataclass
class LoadResult:
    runs: int
    succeeded: int
    seconds: float
    list_p50_ms: float
    list_p95_ms: float
    list_samples: int
    server_peak_rss_mb: float
    # The server's CPU during the load, and the machine's load before and after it.
    server_cpu_s: float = float("nan")
    load_before: float = float("nan")
    load_after: float = float("nan")


def _percentile(values: list[float], q: float) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def submit_many(
    cli: Path,
    home: Path,
    package: Path,
    runs: int,
    timeout: float,
    env: dict[str, str] | None = None,
    worker_nice: int | None = None,
) -> LoadResult:
    import kfp

    with server(cli, home, env=env, worker_nice=worker_nice) as (url, pid):
        client = kfp.Client(host=url)
        # Up front: concurrent first submissions would each try to create the default experiment.
        experiment_id = client.create_experiment("load").experiment_id
        latencies: list[float] = []
        done = threading.Event()

        def poll() -> None:
            with httpx.Client(base_url=url, timeout=30) as http:
                while not done.is_set():
                    started = time.perf_counter()
                    http.get("/apis/v2beta1/runs", params={"page_size": 50}).raise_for_status()
                    latencies.append(1000 * (time.perf_counter() - started))
                    time.sleep(0.05)

        poller = threading.Thread(target=poll, daemon=True)
        load_before, cpu_before = load_average(), cpu_seconds(pid)
        started = time.perf_counter()
        poller.start()
        with ThreadPoolExecutor(max_workers=8) as pool:
            ids = list(
                pool.map(
                    lambda i: client.create_run_from_pipeline_package(
                        str(package), run_name=f"load-{i}", enable_caching=False, experiment_id=experiment_id
                    ).run_id,
                    range(runs),
                )
            )
        states: dict[str, str] = {}
        deadline = time.monotonic() + timeout
        with httpx.Client(base_url=url, timeout=30) as http:
            while len(states) < len(ids) and time.monotonic() < deadline:
                for run_id in [i for i in ids if i not in states]:
                    state = http.get(f"/apis/v2beta1/runs/{run_id}").json().get("state", "")
                    if state in FINAL:
                        states[run_id] = state
                time.sleep(0.5)
        elapsed = time.perf_counter() - started
        done.set()
        poller.join(timeout=60)
        return LoadResult(
            runs=runs,
            succeeded=sum(1 for s in states.values() if s == "SUCCEEDED"),
            seconds=elapsed,
            list_p50_ms=_percentile(latencies, 50),
            list_p95_ms=_percentile(latencies, 95),
            list_samples=len(latencies),
            server_peak_rss_mb=peak_rss_mb(pid),
            server_cpu_s=cpu_seconds(pid) - cpu_before,
            load_before=load_before,
            load_after=load_average(),
        )


def list_cost(cli: Path, home: Path, package: Path, runs: int, samples: int = 300) -> dict[str, float]:
    """The server's CPU per ``GET /runs?page_size=50`` with ``runs`` stored and nothing else
    running (``--workers 0``): what the load multiplies, and steadier than latency on a
    shared machine."""
    import kfp

    with server(cli, home, workers=0) as (url, pid):
        client = kfp.Client(host=url)
        experiment_id = client.create_experiment("cost").experiment_id
        for i in range(runs):
            client.create_run_from_pipeline_package(str(package), run_name=f"cost-{i}", experiment_id=experiment_id)
        latencies: list[float] = []
        with httpx.Client(base_url=url, timeout=30) as http:
            for _ in range(20):  # warm caches and the connection
                http.get("/apis/v2beta1/runs", params={"page_size": 50}).raise_for_status()
            load_before, cpu_before = load_average(), cpu_seconds(pid)
            for _ in range(samples):
                started = time.perf_counter()
                http.get("/apis/v2beta1/runs", params={"page_size": 50}).raise_for_status()
                latencies.append(1000 * (time.perf_counter() - started))
        return {
            "stored_runs": runs,
            "server_cpu_ms_per_page": 1000 * (cpu_seconds(pid) - cpu_before) / samples,
            "list_p50_ms": _percentile(latencies, 50),
            "list_p95_ms": _percentile(latencies, 95),
            "load_before": load_before,
            "load_after": load_average(),
        }


def server_loop(cli: Path, home: Path, package: Path, timeout: float) -> tuple[str, float, float]:
    """One big run through the server: its final state, wall seconds and the server's peak RSS."""
    import kfp

    with server(cli, home) as (url, pid):
        client = kfp.Client(host=url)
        started = time.perf_counter()
        run_id = client.create_run_from_pipeline_package(str(package), enable_caching=False).run_id
        run = client.wait_for_run_completion(run_id, timeout=timeout, sleep_duration=2)
        return str(run.state), time.perf_counter() - started, peak_rss_mb(pid)


def main() -> int:
    """``python benchmarks/load.py --runs N``: the load alone, its result as one JSON line."""
    import argparse
    import json
    import sys
    import tempfile
    from dataclasses import asdict

    from pipelines import chain

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--timeout", type=float, default=1800)
    parser.add_argument(
        "--set", action="append", default=[], metavar="NAME=VALUE",
        help="a PIPEYARD_* setting for the server, e.g. PIPEYARD_TASK_NICE=0 (repeatable)",
    )
    parser.add_argument(
        "--separate-worker", type=int, default=None, metavar="NICE",
        help="serve the API only and execute the runs in a `pipeyard worker` at this niceness",
    )
    parser.add_argument(
        "--list-cost", action="store_true",
        help="instead of the load: the server's CPU per page of 50 runs with --runs runs stored, nothing running",
    )
    args = parser.parse_args()
    env = dict(item.split("=", 1) for item in args.set)
    cli = Path(sys.executable).parent / "pipeyard"
    with tempfile.TemporaryDirectory(prefix="pipeyard-load-") as scratch:
        package = chain(1).compile(Path(scratch))
        if args.list_cost:
            print(json.dumps(list_cost(cli, Path(scratch) / "home", package, args.runs)))
            return 0
        result = submit_many(cli, Path(scratch) / "home", package, args.runs, args.timeout, env, args.separate_worker)
    print(json.dumps(asdict(result)))
    return 0 if result.succeeded == result.runs else 1


if __name__ == "__main__":
    raise SystemExit(main())
