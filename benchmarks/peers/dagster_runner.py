"""Run one benchmark workload under Dagster's multiprocess executor; print one JSON result line.

Runs with ``benchmarks/.venv-dagster``'s interpreter, never pipeyard's. Usage::

    python dagster_runner.py WORKLOAD SIZE SCRATCH_DIR

WORKLOAD is chain, fanout, loop or iris. The job is rebuilt in every step process from
``build_job`` (``build_reconstructable_job``), which is how the multiprocess executor runs a
job that is generated rather than defined at module level.
"""

from __future__ import annotations

import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
RESULT_MARKER = "PEER_RESULT "


def _step(x: int) -> int:
    return x + 1


def build_job(workload: str, size: int, scratch: str):  # type: ignore[no-untyped-def]
    import dagster as dg

    sys.path.insert(0, HERE)
    import iris_steps

    executor = dg.multiprocess_executor
    if workload == "chain":

        @dg.op(name="seed")
        def seed() -> int:
            return _step(0)

        @dg.op(name="step")
        def step(x: int) -> int:
            return _step(x)

        @dg.job(name=f"chain_{size}", executor_def=executor)
        def chain() -> None:
            value = seed()
            for i in range(1, size):
                value = step.alias(f"step_{i}")(value)

        return chain
    if workload == "fanout":

        def constant(i: int):  # type: ignore[no-untyped-def]
            @dg.op(name=f"step_{i}")
            def op() -> int:
                return _step(i)

            return op

        ops = [constant(i) for i in range(size)]

        @dg.job(name=f"fanout_{size}", executor_def=executor)
        def fanout() -> None:
            for op in ops:
                op()

        return fanout
    if workload == "loop":

        @dg.op(out=dg.DynamicOut(int))
        def items():  # type: ignore[no-untyped-def]
            for i in range(size):
                yield dg.DynamicOutput(i, mapping_key=str(i))

        @dg.op(name="step")
        def step(x: int) -> int:
            return _step(x)

        @dg.job(name=f"loop_{size}", executor_def=executor)
        def loop() -> None:
            items().map(step)

        return loop
    if workload == "iris":

        @dg.op
        def load_data() -> str:
            return iris_steps.load_data(scratch)

        @dg.op(out={"train": dg.Out(str), "test": dg.Out(str)})
        def preprocess(raw: str):  # type: ignore[no-untyped-def]
            return iris_steps.preprocess(raw, scratch)

        @dg.op
        def train(train_path: str) -> str:
            return iris_steps.train(train_path, scratch)

        @dg.op
        def evaluate(model: str, test: str) -> float:
            return iris_steps.evaluate(model, test, scratch)

        @dg.job(name="iris", executor_def=executor)
        def iris() -> None:
            train_path, test_path = preprocess(load_data())
            evaluate(train(train_path), test_path)

        return iris
    raise SystemExit(f"unknown workload {workload!r}")


def main() -> int:
    workload, size, scratch = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    started = time.perf_counter()
    import dagster as dg

    os.environ["DAGSTER_HOME"] = os.path.join(scratch, "dagster-home")
    os.makedirs(os.environ["DAGSTER_HOME"], exist_ok=True)
    job = dg.build_reconstructable_job(
        "dagster_runner", "build_job", reconstructable_args=(workload, size, scratch), reconstructor_working_directory=HERE
    )
    imported = time.perf_counter()
    with dg.DagsterInstance.get() as instance:
        result = dg.execute_job(job, instance=instance)
        ok = result.success
        steps = len(
            [e for e in result.all_events if e.event_type_value == "STEP_SUCCESS"]
        )
    finished = time.perf_counter()
    report = {"ok": ok, "steps": steps, "setup_seconds": imported - started, "pipeline_seconds": finished - imported}
    sys.stdout.write("\n" + RESULT_MARKER + json.dumps(report) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
