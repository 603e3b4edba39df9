"""Run one benchmark workload under Prefect; print one JSON result line.

Runs with ``benchmarks/.venv-prefect``'s interpreter, never pipeyard's. Usage::

    python prefect_runner.py WORKLOAD SIZE SCRATCH_DIR

Prefect's default task runner runs tasks on threads of the flow's process (no process
isolation, unlike the other three); without a configured server it starts its ephemeral one,
which is what a user who runs a flow script waits for.
"""

from __future__ import annotations

import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
RESULT_MARKER = "PEER_RESULT "


def main() -> int:
    workload, size, scratch = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    started = time.perf_counter()
    os.environ.setdefault("PREFECT_HOME", os.path.join(scratch, "prefect-home"))
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    # The ephemeral API server starts in a subprocess; on a loaded 2-core machine its default
    # 20 s start-up allowance is not always enough.
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
    from prefect import flow, task

    sys.path.insert(0, HERE)
    import iris_steps

    @task
    def step(x: int) -> int:
        return x + 1

    @flow(name=f"{workload}-{size}")
    def chain() -> int:
        value = 0
        for _ in range(size):
            value = step(value)
        return value

    @flow(name=f"{workload}-{size}")
    def fanout() -> list[int]:
        futures = [step.submit(i) for i in range(size)]
        return [f.result() for f in futures]

    @flow(name=f"{workload}-{size}")
    def loop() -> list[int]:
        return step.map(list(range(size))).result()

    @flow(name="iris")
    def iris() -> float:
        raw = task(iris_steps.load_data)(scratch)
        train_path, test_path = task(iris_steps.preprocess)(raw, scratch)
        model = task(iris_steps.train)(train_path, scratch)
        return task(iris_steps.evaluate)(model, test_path, scratch)

    flows = {"chain": chain, "fanout": fanout, "loop": loop, "iris": iris}
    imported = time.perf_counter()
    try:
        flows[workload]()
    except Exception as error:  # the failure is the result being reported
        report: dict[str, object] = {"ok": False, "error": f"{type(error).__name__}: {error}"[:2000]}
    else:
        report = {"ok": True}
    finished = time.perf_counter()
    report.update(setup_seconds=imported - started, pipeline_seconds=finished - imported)
    sys.stdout.write("\n" + RESULT_MARKER + json.dumps(report) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
