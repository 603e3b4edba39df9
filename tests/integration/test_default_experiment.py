"""The "Default" experiment, as KFP's API server keeps it in single-user mode: it
exists as soon as the server starts, runs submitted without an experiment land in it
(also when many kfp.Client submissions start at once, which used to race in the
client's get-or-create and get 409s), and it cannot be deleted."""

# No `from __future__ import annotations`: kfp reads component signatures at runtime.
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import kfp
import pytest
from kfp import compiler, dsl

DESCRIPTION = "All runs created without specifying an experiment will be grouped here."


@dsl.component
def noop(x: int) -> int:
    return x


@dsl.pipeline(name="default-experiment")
def one_step(x: int = 1) -> None:
    noop(x=x)


def test_default_exists_at_start_and_collects_concurrent_runs(server: Any, tmp_path: Path) -> None:
    with server.http() as http:
        listed = http.get("/apis/v2beta1/experiments").json()["experiments"]
    defaults = [e for e in listed if e["display_name"] == "Default"]
    assert len(defaults) == 1 and defaults[0]["description"] == DESCRIPTION

    package = tmp_path / "one.yaml"
    compiler.Compiler().compile(one_step, str(package))

    def submit(i: int) -> str:
        client = kfp.Client(host=server.url)  # a client each, as separate programs would
        return client.create_run_from_pipeline_package(
            str(package), arguments={"x": i}, run_name=f"concurrent-{i}", enable_caching=False
        ).run_id

    with ThreadPoolExecutor(8) as pool:
        run_ids = list(pool.map(submit, range(8)))
    with server.http() as http:
        experiments = {server.wait_run(http, run_id)["experiment_id"] for run_id in run_ids}
        names = [e["display_name"] for e in http.get("/apis/v2beta1/experiments").json()["experiments"]]
    assert experiments == {defaults[0]["experiment_id"]}
    assert names.count("Default") == 1


@pytest.mark.parametrize("api", ["v2beta1", "v1beta1"])
def test_default_cannot_be_deleted(server: Any, api: str) -> None:
    with server.http() as http:
        default = kfp.Client(host=server.url).get_experiment(experiment_name="Default")
        resp = http.delete(f"/apis/{api}/experiments/{default.experiment_id}")
        assert resp.status_code == 400
        assert "default experiment" in resp.json()["error_message"]
        assert http.get(f"/apis/v2beta1/experiments/{default.experiment_id}").status_code == 200
