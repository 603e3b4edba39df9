"""Request latency and throughput of the served iris model, over loopback.

Usage (from the repository root)::

    .venv/bin/python benchmarks/serving.py              # 2,000 requests per protocol and concurrency
    .venv/bin/python benchmarks/serving.py --requests 300

It trains the iris example's model (a scikit-learn Pipeline saved with joblib), starts the
same KServe model server a deployment runs, and sends one-row requests over both protocols
(V1 ``:predict`` and Open Inference Protocol v2 ``/infer``) from 1 and from 16 concurrent
clients (threads with keep-alive connections), each sending a fixed number of requests.
It prints p50/p99 latency and requests per second, and the ratio of p50 to the same
prediction made in process (the floor that any server adds its overhead to).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from pipeyard.serving.manager import free_port  # noqa: E402
from pipeyard.serving.runtime import server_command, server_env  # noqa: E402

ROW = [6.7, 3.0, 5.2, 2.3]
READY_DEADLINE = 120.0


def train(path: Path) -> Any:
    import joblib
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    x, y = load_iris(return_X_y=True)
    model = Pipeline([("scale", StandardScaler()), ("classify", LogisticRegression(max_iter=200))]).fit(x, y)
    joblib.dump(model, path)
    return model


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def load(send: Callable[[httpx.Client], None], clients: int, per_client: int) -> tuple[list[float], float]:
    latencies: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        mine: list[float] = []
        with httpx.Client(timeout=30, trust_env=False) as http:
            send(http)  # warm the connection
            for _ in range(per_client):
                t0 = time.perf_counter()
                send(http)
                mine.append(time.perf_counter() - t0)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000, help="requests per protocol and concurrency")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="pipeyard-bench-serving-") as tmp:
        model_path = Path(tmp) / "model"
        model = train(model_path)
        port = free_port("127.0.0.1")
        command = server_command(sys.executable, model_path=model_path, model_name="iris",
                                 framework="sklearn", host="127.0.0.1", port=port)
        log = (Path(tmp) / "server.log").open("wb")
        proc = subprocess.Popen(list(command), env=server_env(None), stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + READY_DEADLINE
            while True:
                try:
                    if httpx.get(f"{base}/v2/health/ready", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise SystemExit("the model server did not become ready")
                time.sleep(0.1)

            in_process = []
            for _ in range(500):
                t0 = time.perf_counter()
                model.predict([ROW])
                in_process.append(time.perf_counter() - t0)
            floor = statistics.median(in_process)

            v1_body = {"instances": [ROW]}
            v2_body = {"inputs": [{"name": "input-0", "shape": [1, 4], "datatype": "FP64", "data": ROW}]}

            def v1(http: httpx.Client) -> None:
                r = http.post(f"{base}/v1/models/iris:predict", json=v1_body)
                assert r.status_code == 200 and r.json()["predictions"] == [2], r.text

            def v2(http: httpx.Client) -> None:
                r = http.post(f"{base}/v2/models/iris/infer", json=v2_body)
                assert r.status_code == 200 and r.json()["outputs"][0]["data"] == [2], r.text

            print(f"in-process model.predict of one row: p50 {floor * 1e3:.3f} ms")
            print(f"{'protocol':<9}{'clients':>8}{'requests':>10}{'p50 ms':>9}{'p99 ms':>9}{'req/s':>9}"
                  f"{'p50/in-process':>16}")
            for name, send in (("v1", v1), ("v2", v2)):
                for clients in (1, 16):
                    per_client = max(1, args.requests // clients)
                    latencies, wall = load(send, clients, per_client)
                    p50, p99 = percentile(latencies, 0.5), percentile(latencies, 0.99)
                    print(f"{name:<9}{clients:>8}{len(latencies):>10}{p50 * 1e3:>9.2f}{p99 * 1e3:>9.2f}"
                          f"{len(latencies) / wall:>9.0f}{p50 / floor:>15.1f}x")
        finally:
            proc.terminate()
            proc.wait(timeout=30)
            log.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
