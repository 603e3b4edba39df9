"""Small pipelines for the UI's second end-to-end scenario (ui/e2e/flows.mjs).

python flows_pipelines.py OUT_DIR MARKER_PATH compiles them into OUT_DIR:
  sleeper.yaml   one task that sleeps 60 s (to be terminated from the UI)
  flaky.yaml     a task that fails until MARKER_PATH exists (to be retried)
  reports.yaml   Markdown, HTML and a dataset read by a second task (lineage)
  tick.yaml      one quick task (for a recurring run)
"""

import sys

from kfp import compiler, dsl
from kfp.dsl import HTML, Dataset, Input, Markdown, Output

BASE_IMAGE = "python:3.11"


@dsl.component(base_image=BASE_IMAGE)
def nap(seconds: int) -> None:
    import time

    print(f"sleeping {seconds} s", flush=True)
    time.sleep(seconds)
    print("woke up", flush=True)


@dsl.pipeline(name="e2e-sleeper", description="One task that sleeps.")
def sleeper(seconds: int = 60) -> None:
    nap(seconds=seconds)


@dsl.component(base_image=BASE_IMAGE)
def prepare(n: int) -> int:
    print(f"preparing {n}", flush=True)
    return n * 2


@dsl.component(base_image=BASE_IMAGE)
def check_value(value: int, marker: str) -> str:
    import os

    print(f"checking {value}", flush=True)
    if value > 10 and not os.path.exists(marker):
        raise ValueError(f"value {value} is too large (no marker file at {marker})")
    return "ok"


@dsl.pipeline(name="e2e-flaky", description="Fails on a large value until a marker file exists.")
def flaky(n: int = 21, marker: str = "") -> None:
    p = prepare(n=n)
    check_value(value=p.output, marker=marker)


@dsl.component(base_image=BASE_IMAGE)
def make_reports(summary: Output[Markdown], page: Output[HTML], table: Output[Dataset]) -> None:
    with open(summary.path, "w") as f:
        f.write("# Weekly report\n\n| metric | value |\n|---|---|\n| rows | 3 |\n\n- **all checks passed**\n")
    with open(page.path, "w") as f:
        f.write("<html><body><h1 id='hello'>Hello from an HTML artifact</h1><p>rendered in a sandbox</p></body></html>")
    with open(table.path, "w") as f:
        f.write("name,score\nada,3\nbob,5\ncyd,8\n")


@dsl.component(base_image=BASE_IMAGE)
def count_rows(table: Input[Dataset]) -> int:
    with open(table.path) as f:
        n = len(f.read().strip().splitlines()) - 1
    print(f"{n} rows", flush=True)
    return n


@dsl.pipeline(name="e2e-reports", description="Markdown and HTML reports, a dataset and its reader.")
def reports() -> None:
    r = make_reports()
    count_rows(table=r.outputs["table"])


@dsl.component(base_image=BASE_IMAGE)
def tick() -> None:
    print("tick", flush=True)


@dsl.pipeline(name="e2e-tick", description="One quick task.")
def tick_pipeline() -> None:
    tick().set_caching_options(False)


if __name__ == "__main__":
    out, marker = sys.argv[1], sys.argv[2]
    c = compiler.Compiler()
    c.compile(sleeper, f"{out}/sleeper.yaml")
    c.compile(flaky, f"{out}/flaky.yaml", pipeline_parameters={"marker": marker})
    c.compile(reports, f"{out}/reports.yaml")
    c.compile(tick_pipeline, f"{out}/tick.yaml")
