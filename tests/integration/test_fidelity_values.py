"""Values as a KFP user sees them through the real ``kfp.Client`` against a real server:
a run's stored parameters, f-strings resolved in the task, a spec-visible type
mismatch refused at creation, and the schedule-time placeholder of a recurring run."""

# No `from __future__ import annotations`: kfp reads component signatures at decoration time.
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import kfp
import pytest
import yaml
from kfp import compiler, dsl
from tests.support.pipeline_runs import run_cli

RUN_TIMEOUT = 120
BASE_IMAGE = "python:3.11"


@dsl.component(base_image=BASE_IMAGE)
def greet(msg: str) -> str:
    return msg


@dsl.component(base_image=BASE_IMAGE)
def twice(n: int) -> int:
    return 2 * n


@dsl.pipeline(name="fidelity-values")
def values_pipeline(name: str = "bob", n: int = 3, ratio: float = 0.5) -> None:
    t = twice(n=n)
    greet(msg=f"hello {name}: {t.output} x {ratio} at {dsl.PIPELINE_JOB_CREATE_TIME_UTC_PLACEHOLDER}")


@dsl.pipeline(name="fidelity-schedule")
def schedule_pipeline() -> None:
    greet(msg=f"due {dsl.PIPELINE_JOB_SCHEDULE_TIME_UTC_PLACEHOLDER} made {dsl.PIPELINE_JOB_CREATE_TIME_UTC_PLACEHOLDER}")


@pytest.fixture(scope="module")
def yamls(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("fidelity")
    out = {"values": d / "values.yaml", "schedule": d / "schedule.yaml", "bad": d / "bad.yaml"}
    compiler.Compiler().compile(values_pipeline, str(out["values"]))
    compiler.Compiler().compile(schedule_pipeline, str(out["schedule"]))
    # A hand-edited spec: the string parameter bound to twice's int input.
    spec = yaml.safe_load(out["values"].read_text())
    spec["root"]["dag"]["tasks"]["twice"]["inputs"]["parameters"]["n"] = {"componentInputParameter": "name"}
    out["bad"].write_text(yaml.safe_dump(spec))
    return out


def _rfc3339(text: str) -> str:
    """An API timestamp as the placeholders write it (RFC 3339, seconds, UTC)."""
    when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _greeting(run_json: dict[str, Any]) -> str:
    tasks = {t["display_name"]: t for t in run_json["run_details"]["task_details"]}
    assert tasks["greet"]["state"] == "SUCCEEDED", run_json
    return str(tasks["greet"]["output_parameters"]["Output"])


def test_stored_parameters_are_as_submitted_and_defaults_apply_at_run_time(
    server: Any, kfp_client: kfp.Client, yamls: dict[str, Path]
) -> None:
    given = kfp_client.create_run_from_pipeline_package(
        str(yamls["values"]), arguments={"name": "ann"}, enable_caching=False)
    bare = kfp_client.create_run_from_pipeline_package(str(yamls["values"]), enable_caching=False)
    with server.http() as http:
        done = server.wait_run(http, given.run_id)
        assert done["state"] == "SUCCEEDED", done
        created = _rfc3339(done["created_at"])
        assert _greeting(done) == f"hello ann: 6 x 0.5 at {created}"
        other = server.wait_run(http, bare.run_id)
        assert _greeting(other).startswith("hello bob: 6 x 0.5 at ")
    # As KFP: runtime_config.parameters holds what the caller sent, not the defaults.
    assert kfp_client.get_run(given.run_id).runtime_config.parameters == {"name": "ann"}
    assert not kfp_client.get_run(bare.run_id).runtime_config.parameters


def test_a_type_mismatch_the_spec_shows_is_a_400_naming_task_and_input(
    server: Any, yamls: dict[str, Path]
) -> None:
    spec = yaml.safe_load(yamls["bad"].read_text())
    with server.http() as http:
        before = len(http.get("/apis/v2beta1/runs", params={"page_size": 200}).json().get("runs") or [])
        resp = http.post("/apis/v2beta1/runs", json={"display_name": "bad", "pipeline_spec": spec})
        assert resp.status_code == 400, resp.text
        assert ("task 'twice': input parameter 'n' expects NUMBER_INTEGER, but pipeline parameter "
                "'name' gives a string") in resp.text
        # Nothing half-written.
        after = len(http.get("/apis/v2beta1/runs", params={"page_size": 200}).json().get("runs") or [])
        assert after == before
        # A schedule that could only make failing runs is refused the same way.
        resp = http.post("/apis/v2beta1/recurringruns", json={
            "display_name": "bad-hourly", "pipeline_spec": spec, "mode": "ENABLE",
            "trigger": {"periodic_schedule": {"interval_second": 3600}}})
        assert resp.status_code == 400, resp.text
        assert "task 'twice': input parameter 'n' expects NUMBER_INTEGER" in resp.text


def test_the_cli_refuses_the_same_mismatch_as_a_usage_error(tmp_path: Path, yamls: dict[str, Path]) -> None:
    proc = run_cli(tmp_path / "home", "run", str(yamls["bad"]))
    assert proc.returncode == 2, proc.stderr
    assert "task 'twice': input parameter 'n' expects NUMBER_INTEGER" in " ".join(proc.stderr.split())
    assert not (tmp_path / "home" / "work").exists()


def test_schedule_time_of_a_recurring_run_is_its_trigger_time(
    server: Any, kfp_client: kfp.Client, yamls: dict[str, Path]
) -> None:
    exp = kfp_client.create_experiment(f"due-{uuid.uuid4().hex[:6]}")
    start = (datetime.now(timezone.utc) + timedelta(seconds=2)).replace(microsecond=0)
    rr = kfp_client.create_recurring_run(
        experiment_id=exp.experiment_id, job_name="hourly",
        pipeline_package_path=str(yamls["schedule"]), interval_second=3600,
        start_time=start.strftime("%Y-%m-%dT%H:%M:%SZ"), enable_caching=False,
    )
    deadline = time.monotonic() + RUN_TIMEOUT
    runs: list[Any] = []
    while time.monotonic() < deadline and not runs:
        runs = kfp_client.list_runs(experiment_id=exp.experiment_id).runs or []
        time.sleep(0.2)
    kfp_client.disable_recurring_run(rr.recurring_run_id)
    assert len(runs) == 1
    with server.http() as http:
        done = server.wait_run(http, runs[0].run_id)
    # The first firing is due at the start time; the run is made when the scheduler gets to it.
    assert _rfc3339(done["scheduled_at"]) == start.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert _greeting(done) == (f"due {start.strftime('%Y-%m-%dT%H:%M:%SZ')} "
                               f"made {_rfc3339(done['created_at'])}")
    kfp_client.delete_recurring_run(rr.recurring_run_id)
