"""The real ``kfp.Client`` against a real pipeyard server, on SQLite and PostgreSQL.

Each test asserts what a KFP user would check: run states, task states and outputs,
what lists return, in which order.
"""

# No `from __future__ import annotations`: kfp reads component signatures at decoration
# time and cannot interpret string annotations.

import base64
import json
import time
import uuid
from pathlib import Path
from typing import Any

import kfp
import pytest
from kfp import compiler, dsl
from tests.support.processes import gone

BASE_IMAGE = "python:3.11"


@dsl.component(base_image=BASE_IMAGE)
def add(a: int, b: int) -> int:
    return a + b


@dsl.component(base_image=BASE_IMAGE)
def write_text(text: str, out: dsl.Output[dsl.Dataset]) -> None:
    print(f"writing {text!r}")
    with open(out.path, "w") as f:
        f.write(text)


@dsl.component(base_image=BASE_IMAGE)
def shout(data: dsl.Input[dsl.Dataset]) -> str:
    with open(data.path) as f:
        return f.read().upper()


@dsl.pipeline(name="arith-and-text")
def arith_pipeline(x: int = 1, y: int = 2, text: str = "hi") -> None:
    add(a=x, b=y)
    w = write_text(text=text)
    shout(data=w.outputs["out"])


@dsl.component(base_image=BASE_IMAGE)
def sleeper(seconds: int, pid_file: str) -> None:
    import os
    import time

    with open(pid_file, "w") as f:
        f.write(str(os.getpid()))
    time.sleep(seconds)


@dsl.pipeline(name="sleepy")
def sleepy_pipeline(seconds: int, pid_file: str) -> None:
    sleeper(seconds=seconds, pid_file=pid_file)


@dsl.component(base_image=BASE_IMAGE)
def count_once(marker: str) -> str:
    with open(marker, "a") as f:
        f.write("x\n")
    return "counted"


@dsl.component(base_image=BASE_IMAGE)
def fail_unless(flag: str, upstream: str) -> str:
    import os

    if not os.path.exists(flag):
        raise RuntimeError(f"flag {flag} is missing")
    return upstream + "!"


@dsl.pipeline(name="flaky")
def flaky_pipeline(marker: str, flag: str) -> None:
    first = count_once(marker=marker)
    fail_unless(flag=flag, upstream=first.output)


def tasks_by_name(run_json: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {t["display_name"]: t for t in run_json["run_details"]["task_details"]}


@pytest.fixture(scope="module")
def arith_yaml(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("specs") / "arith.yaml"
    compiler.Compiler().compile(arith_pipeline, str(path))
    return path


def assert_arith_outcome(run: dict[str, Any], total: int, text: str) -> None:
    assert run["state"] == "SUCCEEDED", run.get("error")
    tasks = tasks_by_name(run)
    assert tasks["add"]["state"] == "SUCCEEDED"
    assert tasks["add"]["output_parameters"]["Output"] == total
    assert tasks["shout"]["output_parameters"]["Output"] == text.upper()
    # The dataset travels from write-text to shout as one artifact id.
    produced = tasks["write-text"]["outputs"]["out"]["artifact_ids"]
    consumed = tasks["shout"]["inputs"]["data"]["artifact_ids"]
    assert len(produced) == 1 and produced == consumed


def test_run_from_pipeline_func_with_arguments(server: Any, kfp_client: kfp.Client) -> None:
    result = kfp_client.create_run_from_pipeline_func(
        arith_pipeline,
        arguments={"x": 40, "y": 2, "text": "quiet"},
        run_name="from-func",
        enable_caching=False,
    )
    # kfp's own waiting (it polls every 5 s): kept to this one test.
    done = kfp_client.wait_for_run_completion(result.run_id, timeout=RUN_TIMEOUT)
    assert done.state == "SUCCEEDED"
    assert done.runtime_config.parameters == {"x": 40, "y": 2, "text": "quiet"}
    names = {t.display_name: t for t in done.run_details.task_details}
    assert {"add", "write-text", "shout"} <= set(names)
    assert all(names[n].state == "SUCCEEDED" for n in ("add", "write-text", "shout"))
    with server.http() as http:
        assert_arith_outcome(http.get(f"/apis/v2beta1/runs/{result.run_id}").json(), 42, "quiet")
    # Without an experiment kfp files the run under "Default".
    exp = kfp_client.get_experiment(experiment_id=done.experiment_id)
    assert exp.display_name == "Default"


RUN_TIMEOUT = 120


def test_upload_pipeline_versions_and_run_from_version(
    server: Any, kfp_client: kfp.Client, arith_yaml: Path
) -> None:
    name = f"arith-{uuid.uuid4().hex[:6]}"
    pipeline = kfp_client.upload_pipeline(str(arith_yaml), pipeline_name=name, description="uploaded")
    assert pipeline.display_name == name
    version = kfp_client.upload_pipeline_version(
        str(arith_yaml), pipeline_version_name="v2", pipeline_id=pipeline.pipeline_id
    )
    versions = kfp_client.list_pipeline_versions(pipeline.pipeline_id, sort_by="created_at desc")
    assert [v.display_name for v in versions.pipeline_versions] == ["v2", name]
    assert kfp_client.get_pipeline_id(name) == pipeline.pipeline_id
    exp = kfp_client.create_experiment(f"exp-{uuid.uuid4().hex[:6]}")
    run = kfp_client.run_pipeline(
        experiment_id=exp.experiment_id,
        job_name="from-version",
        params={"x": 3, "y": 4, "text": "abc"},
        pipeline_id=pipeline.pipeline_id,
        version_id=version.pipeline_version_id,
        enable_caching=False,
    )
    with server.http() as http:
        body = server.wait_run(http, run.run_id)
        assert_arith_outcome(body, 7, "abc")
        assert body["pipeline_version_reference"] == {
            "pipeline_id": pipeline.pipeline_id,
            "pipeline_version_id": version.pipeline_version_id,
        }
        assert "pipeline_spec" not in body
    got = kfp_client.get_run(run.run_id)
    assert got.experiment_id == exp.experiment_id
    assert got.pipeline_version_reference.pipeline_version_id == version.pipeline_version_id


def test_run_from_package_lists_filters_and_sorts(
    server: Any, kfp_client: kfp.Client, arith_yaml: Path
) -> None:
    exp_name = f"listing-{uuid.uuid4().hex[:6]}"
    ids = []
    for i in range(3):
        r = kfp_client.create_run_from_pipeline_package(
            str(arith_yaml),
            arguments={"x": i, "y": 10},
            run_name=f"pkg-{i}",
            experiment_name=exp_name,
            enable_caching=False,
        )
        ids.append(r.run_id)
    exp = kfp_client.get_experiment(experiment_name=exp_name)
    with server.http() as http:
        for i, run_id in enumerate(ids):
            assert_arith_outcome(server.wait_run(http, run_id), i + 10, "hi")
    listed = kfp_client.list_runs(experiment_id=exp.experiment_id, sort_by="created_at desc", page_size=10)
    assert [r.run_id for r in listed.runs] == ids[::-1]
    assert listed.total_size == 3
    # Paging walks the same order without overlap.
    first = kfp_client.list_runs(experiment_id=exp.experiment_id, sort_by="created_at", page_size=2)
    assert [r.run_id for r in first.runs] == ids[:2] and first.next_page_token
    second = kfp_client.list_runs(
        experiment_id=exp.experiment_id, sort_by="created_at", page_size=2, page_token=first.next_page_token
    )
    assert [r.run_id for r in second.runs] == ids[2:] and not second.next_page_token
    # KFP filter JSON, with the enum as a number and as a name.
    by_name = json.dumps({"predicates": [{"operation": 1, "key": "display_name", "stringValue": "pkg-1"}]})
    assert [r.run_id for r in kfp_client.list_runs(filter=by_name).runs] == [ids[1]]
    in_names = json.dumps(
        {"predicates": [{"operation": "IN", "key": "name", "string_values": {"values": ["pkg-0", "pkg-2"]}}]}
    )
    found = kfp_client.list_runs(experiment_id=exp.experiment_id, filter=in_names, sort_by="name desc")
    assert [r.display_name for r in found.runs] == ["pkg-2", "pkg-0"]
    succeeded = json.dumps(
        {"predicates": [{"operation": "EQUALS", "key": "state", "string_value": "SUCCEEDED"}]}
    )
    assert kfp_client.list_runs(experiment_id=exp.experiment_id, filter=succeeded).total_size == 3
    exps = kfp_client.list_experiments(page_size=100).experiments
    assert exp_name in {e.display_name for e in exps}


def _wait_for_file(path: Path) -> str:
    deadline = time.monotonic() + RUN_TIMEOUT
    while time.monotonic() < deadline:
        if path.exists() and path.read_text().strip():
            return path.read_text().strip()
        time.sleep(0.1)
    raise AssertionError(f"{path} was never written")


def test_terminate_kills_the_task_and_ends_canceled(
    server: Any, kfp_client: kfp.Client, tmp_path: Path
) -> None:
    pid_file = tmp_path / "pid"
    r = kfp_client.create_run_from_pipeline_func(
        sleepy_pipeline, arguments={"seconds": 300, "pid_file": str(pid_file)}, enable_caching=False
    )
    pid = int(_wait_for_file(pid_file))
    assert not gone(pid)
    kfp_client.terminate_run(r.run_id)
    with server.http() as http:
        body = server.wait_run(http, r.run_id)
    assert body["state"] == "CANCELED"
    assert tasks_by_name(body)["sleeper"]["state"] == "CANCELED"
    deadline = time.monotonic() + 30
    while not gone(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert gone(pid)
    kfp_client.delete_run(r.run_id)
    with pytest.raises(kfp_server_api_exception()) as err:
        kfp_client.get_run(r.run_id)
    assert err.value.status == 404  # type: ignore[attr-defined]


def kfp_server_api_exception() -> type[Exception]:
    from kfp_server_api.exceptions import ApiException

    return ApiException


def test_retry_reuses_succeeded_tasks(server: Any, kfp_client: kfp.Client, tmp_path: Path) -> None:
    marker, flag = tmp_path / "marker", tmp_path / "flag"
    r = kfp_client.create_run_from_pipeline_func(
        flaky_pipeline, arguments={"marker": str(marker), "flag": str(flag)}, enable_caching=False
    )
    with server.http() as http:
        failed = server.wait_run(http, r.run_id)
        assert failed["state"] == "FAILED"
        assert tasks_by_name(failed)["fail-unless"]["state"] == "FAILED"
        failing = tasks_by_name(failed)["fail-unless"]
        assert failing["error"]["message"]
        log = http.get(f"/apis/v1alpha1/runs/{r.run_id}/nodes/{failing['task_id']}/log").text
        assert f"flag {flag} is missing" in log
        flag.write_text("ok")
        assert http.post(f"/apis/v2beta1/runs/{r.run_id}:retry").status_code == 200
        done = server.wait_run(http, r.run_id)
    assert done["state"] == "SUCCEEDED"
    assert tasks_by_name(done)["fail-unless"]["output_parameters"]["Output"] == "counted!"
    assert marker.read_text() == "x\n"  # the first task did not run again


def test_archive_and_unarchive(server: Any, kfp_client: kfp.Client, arith_yaml: Path) -> None:
    r = kfp_client.create_run_from_pipeline_package(str(arith_yaml), enable_caching=False)
    with server.http() as http:
        server.wait_run(http, r.run_id)
    kfp_client.archive_run(r.run_id)
    assert kfp_client.get_run(r.run_id).storage_state == "ARCHIVED"
    kfp_client.unarchive_run(r.run_id)
    assert kfp_client.get_run(r.run_id).storage_state == "AVAILABLE"
    exp = kfp_client.create_experiment(f"arch-{uuid.uuid4().hex[:6]}")
    kfp_client.archive_experiment(exp.experiment_id)
    assert kfp_client.get_experiment(experiment_id=exp.experiment_id).storage_state == "ARCHIVED"
    kfp_client.unarchive_experiment(exp.experiment_id)
    assert kfp_client.get_experiment(experiment_id=exp.experiment_id).storage_state == "AVAILABLE"


def test_recurring_run_fires_real_runs(server: Any, kfp_client: kfp.Client, arith_yaml: Path) -> None:
    exp = kfp_client.create_experiment(f"sched-{uuid.uuid4().hex[:6]}")
    rr = kfp_client.create_recurring_run(
        experiment_id=exp.experiment_id,
        job_name="every-second",
        pipeline_package_path=str(arith_yaml),
        params={"x": 1, "y": 1},
        interval_second=1,
        max_concurrency=2,
        enable_caching=False,
    )
    assert rr.status == "ENABLED"
    deadline = time.monotonic() + RUN_TIMEOUT
    runs: list[Any] = []
    while time.monotonic() < deadline:
        runs = kfp_client.list_runs(experiment_id=exp.experiment_id, page_size=50).runs or []
        if len(runs) >= 2:
            break
        time.sleep(0.2)
    kfp_client.disable_recurring_run(rr.recurring_run_id)
    assert kfp_client.get_recurring_run(rr.recurring_run_id).status == "DISABLED"
    assert len(runs) >= 2
    assert {r.recurring_run_id for r in runs} == {rr.recurring_run_id}
    with server.http() as http:
        for run in runs:
            assert_arith_outcome(server.wait_run(http, run.run_id), 2, "hi")
        # Disabled: whatever fired before the switch, nothing more after it. A second
        # schedule is the witness that the scheduler kept ticking: between two of its
        # firings (each a later tick than the disable) the disabled one fired nothing.
        witness_exp = kfp_client.create_experiment(f"witness-{uuid.uuid4().hex[:6]}")
        witness = kfp_client.create_recurring_run(
            experiment_id=witness_exp.experiment_id, job_name="witness", pipeline_package_path=str(arith_yaml),
            params={"x": 1, "y": 1}, interval_second=1, max_concurrency=10, enable_caching=False,
        )

        def fired(experiment_id: str) -> set[str]:
            listed = kfp_client.list_runs(experiment_id=experiment_id, page_size=100).runs or []
            return {r.run_id for r in listed}

        def witness_fires(count: int) -> None:
            deadline = time.monotonic() + RUN_TIMEOUT
            while len(fired(witness_exp.experiment_id)) < count:
                assert time.monotonic() < deadline, f"the witness schedule did not fire {count} runs"
                time.sleep(0.2)

        witness_fires(2)
        settled = fired(exp.experiment_id)
        witness_fires(4)
        assert fired(exp.experiment_id) == settled
        kfp_client.disable_recurring_run(witness.recurring_run_id)
        kfp_client.delete_recurring_run(witness.recurring_run_id)
        listed = http.get("/apis/v2beta1/recurringruns", params={"experiment_id": exp.experiment_id}).json()
        assert [x["recurring_run_id"] for x in listed["recurringRuns"]] == [rr.recurring_run_id]
    kfp_client.delete_recurring_run(rr.recurring_run_id)


def test_logs_artifacts_and_ui_endpoints(server: Any, kfp_client: kfp.Client) -> None:
    r = kfp_client.create_run_from_pipeline_func(
        arith_pipeline, arguments={"text": "payload"}, enable_caching=False
    )
    with server.http() as http:
        run = server.wait_run(http, r.run_id)
        assert run["state"] == "SUCCEEDED"
        writer = tasks_by_name(run)["write-text"]
        log = http.get(f"/apis/v1alpha1/runs/{r.run_id}/nodes/{writer['task_id']}/log")
        assert log.status_code == 200 and "writing 'payload'" in log.text
        read = http.get(f"/apis/v2beta1/runs/{r.run_id}/nodes/{writer['task_id']}/artifacts/out:read")
        assert base64.b64decode(read.json()["data"]) == b"payload"

        tasks = http.get(f"/apis/pipeyard/v1/runs/{r.run_id}/tasks").json()["tasks"]
        by_name = {t["name"]: t for t in tasks}
        assert by_name["add"]["outputs"]["parameters"]["Output"] == 3
        assert by_name["write-text"]["attempt_list"][0]["exit_code"] == 0
        art_ref = by_name["write-text"]["outputs"]["artifacts"]["out"][0]
        assert art_ref["type"] == "system.Dataset"

        part = http.get(
            f"/apis/pipeyard/v1/runs/{r.run_id}/tasks/{writer['task_id']}/log", params={"offset": 3}
        )
        assert part.headers["X-Log-Size"] == str(len(log.content))
        assert part.content == log.content[3:]

        arts = http.get("/apis/pipeyard/v1/artifacts", params={"run_id": r.run_id}).json()
        assert {a["name"] for a in arts["artifacts"]} >= {"out"}
        art = http.get(f"/apis/pipeyard/v1/artifacts/{art_ref['artifact_id']}").json()
        assert art["lineage"]["producer"]["task_name"] == "write-text"
        assert [c["task_name"] for c in art["lineage"]["consumers"]] == ["shout"]
        content = http.get(
            f"/apis/pipeyard/v1/artifacts/{art_ref['artifact_id']}/content", params={"download": 1}
        )
        assert content.content == b"payload"
        assert "attachment" in content.headers["Content-Disposition"]

        spec = http.get(f"/apis/pipeyard/v1/runs/{r.run_id}/spec").json()
        assert spec["pipeline_spec"]["pipelineInfo"]["name"] == "arith-and-text"
        info = http.get("/apis/pipeyard/v1/info").json()
        assert info["database"] in ("sqlite", "postgresql") and info["pipeline_root"]


def test_pipeline_crud_and_cascade(server: Any, kfp_client: kfp.Client, arith_yaml: Path) -> None:
    name = f"crud-{uuid.uuid4().hex[:6]}"
    p = kfp_client.upload_pipeline(str(arith_yaml), pipeline_name=name)
    got = kfp_client.get_pipeline(p.pipeline_id)
    assert got.display_name == name
    flt = json.dumps({"predicates": [{"operation": "EQUALS", "key": "name", "string_value": name}]})
    assert [x.pipeline_id for x in kfp_client.list_pipelines(filter=flt).pipelines] == [p.pipeline_id]
    with server.http() as http:
        # KFP refuses to delete a pipeline with versions unless asked to cascade.
        assert http.delete(f"/apis/v2beta1/pipelines/{p.pipeline_id}").status_code == 409
        assert (
            http.delete(f"/apis/v2beta1/pipelines/{p.pipeline_id}", params={"cascade": "true"}).status_code
            == 200
        )
        assert http.get(f"/apis/v2beta1/pipelines/{p.pipeline_id}").status_code == 404
