"""Many runs at once: twenty runs submitted together all finish SUCCEEDED."""

# No `from __future__ import annotations`: kfp reads component signatures at decoration
# time and cannot interpret string annotations.

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from kfp import compiler, dsl

BASE_IMAGE = "python:3.11"


@dsl.component(base_image=BASE_IMAGE)
def square(n: int) -> int:
    return n * n


@dsl.component(base_image=BASE_IMAGE)
def plus_one(n: int) -> int:
    return n + 1


@dsl.pipeline(name="tiny")
def tiny(n: int) -> None:
    plus_one(n=square(n=n).output)


def test_twenty_runs_submitted_at_once_all_succeed(server: Any, tmp_path: Path) -> None:
    spec = tmp_path / "tiny.yaml"
    compiler.Compiler().compile(tiny, str(spec))
    client = server.client()
    exp = client.create_experiment(f"load-{tmp_path.name}")

    def submit(i: int) -> str:
        return str(
            server.client()
            .create_run_from_pipeline_package(
                str(spec), arguments={"n": i}, experiment_id=exp.experiment_id, enable_caching=False
            )
            .run_id
        )

    with ThreadPoolExecutor(max_workers=20) as pool:
        run_ids = list(pool.map(submit, range(20)))
    assert len(set(run_ids)) == 20
    with server.http() as http:
        for i, run_id in enumerate(run_ids):
            run = server.wait_run(http, run_id)
            assert run["state"] == "SUCCEEDED", run.get("error")
            tasks = {t["display_name"]: t for t in run["run_details"]["task_details"]}
            assert tasks["plus-one"]["output_parameters"]["Output"] == i * i + 1
    assert client.list_runs(experiment_id=exp.experiment_id).total_size == 20
