"""kfp 1.8.22's own ``kfp.Client`` against a real pipeyard server (v1beta1 API), on
SQLite and PostgreSQL, plus v1 and v2 runs seen through both API versions."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from tests.integration.conftest import ServerProcess
from tests.support.kfp1 import V1_DATA, compile_v1, kfp1_python

CLIENT_DEADLINE_SECONDS = 900


@pytest.fixture(scope="module")
def features_yaml(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return compile_v1("features.py", tmp_path_factory.mktemp("v1-client"))


@pytest.fixture(scope="module")
def client_run(server: ServerProcess, features_yaml: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    marks = tmp_path_factory.mktemp("marks")
    done = subprocess.run([str(kfp1_python()), str(V1_DATA / "client_script.py"), server.url, str(features_yaml),
                           str(marks)], capture_output=True, text=True, timeout=CLIENT_DEADLINE_SECONDS)
    assert done.returncode == 0, f"{done.stderr[-4000:]}\n--- server log ---\n{server.log_tail()}"
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_client_constructs_and_runs_a_pipeline_function(client_run: dict[str, Any], server: ServerProcess) -> None:
    assert client_run["healthz"] is False
    seq = client_run["sequential"]
    assert seq["status"] == "Succeeded"
    assert seq["nodes"] == [["process-data-op", "Succeeded"], ["train-op", "Succeeded"]]
    with server.http() as http:
        tasks = http.get(f"/apis/v2beta1/runs/{seq['run_id']}").json()["run_details"]["task_details"]
        ids = {t["display_name"]: t["task_id"] for t in tasks}
        logs = [http.get(f"/apis/pipeyard/v1/runs/{seq['run_id']}/tasks/{ids[n]}/log").text
                for n in ("process-data-op", "train-op")]
    assert "Processing Data" in logs[0] and "Training ML Model" in logs[1]


def test_uploaded_pipeline_runs_with_parameters(client_run: dict[str, Any]) -> None:
    assert client_run["pipeline"]["name"] == "v1-features-uploaded"
    assert client_run["pipeline"]["parameters"] == ["count", "marker_dir", "threshold", "word"]
    assert client_run["pipeline"]["default_version"]
    assert client_run["version"]["name"] == "v2-of-features"
    assert client_run["version"]["refs"] == [client_run["pipeline"]["id"]]
    assert "v2-of-features" in client_run["versions"] and len(client_run["versions"]) == 2
    assert "v1-features-uploaded" in client_run["pipelines"]
    features = client_run["features"]
    assert features["status"] == "Succeeded"
    assert features["params"] == {"count": "2", "word": "yo", "marker_dir": features["params"]["marker_dir"],
                                  "threshold": "25.0"}
    assert features["produce_total"] == ["20"]
    # total 20 <= 25.0: the "big" branch is skipped; word "yo" skips the env branch.
    assert features["skipped"] == ["condition-5", "condition-7", "env-echo", "show-3"]
    assert features["refs"] == [["EXPERIMENT", "OWNER"], ["PIPELINE_VERSION", "CREATOR"]]


def test_experiments_runs_lists_and_jobs(client_run: dict[str, Any]) -> None:
    assert client_run["experiment"] == {"same": True, "by_name": True}
    assert client_run["runs_in_experiment"] == ["features-from-upload"]
    assert client_run["get_run_name"] == "features-from-upload"
    assert client_run["paging"]["size"] == 1 and client_run["paging"]["next"] is True
    assert client_run["paging"]["total"] >= 2
    assert client_run["job"] == {"name": "nightly-features", "enabled": False, "cron": "0 0 3 * * *"}
    assert client_run["jobs"] == ["nightly-features"] and client_run["job_get"] == "nightly-features"
    assert client_run["jobs_after_delete"] == 0
    assert {"Default", "v1-experiment"} <= set(client_run["experiments"])


def test_v1_runs_appear_in_v2_lists_and_v2_runs_in_v1_lists(
    client_run: dict[str, Any], server: ServerProcess
) -> None:
    with server.http() as http:
        v2 = http.get("/apis/v2beta1/runs", params={"page_size": 100}).json()["runs"]
        assert client_run["sequential"]["run_id"] in {r["run_id"] for r in v2}
        v1 = http.get("/apis/v1beta1/runs", params={"page_size": 100}).json()["runs"]
        assert {r["id"] for r in v1} == {r["run_id"] for r in v2}
        assert all(r["status"] in ("Succeeded", "Failed", "Running", "Pending") for r in v1)


def test_v1beta1_errors_are_4xx_with_a_reason(server: ServerProcess) -> None:
    with server.http() as http:
        bad = http.post("/apis/v1beta1/runs", json={"name": "x", "pipeline_spec": {}})
        assert bad.status_code == 400 and "workflow_manifest" in bad.text
        other = http.post("/apis/v1beta1/runs", json={"name": "x", "pipeline_spec": {
            "workflow_manifest": json.dumps({"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow",
                                             "spec": {}})}})
        assert other.status_code == 400 and "Argo Workflow that kfp 1.x did not compile" in other.text
        assert http.get("/apis/v1beta1/runs/nope").status_code == 404
        assert http.get("/apis/v1beta1/pipeline_versions").status_code == 400


def _v1_run(http: Any, name: str, params: dict[str, str]) -> str:
    import yaml

    manifest = json.dumps(yaml.safe_load((V1_DATA / "handwritten.yaml").read_text()))
    created = http.post("/apis/v1beta1/runs", json={"name": name, "pipeline_spec": {
        "workflow_manifest": manifest, "parameters": [{"name": k, "value": v} for k, v in params.items()]}})
    assert created.status_code == 200, created.text
    return str(created.json()["run"]["id"])


def _status(http: Any, run_id: str) -> dict[str, Any]:
    body: dict[str, Any] = http.get(f"/apis/v1beta1/runs/{run_id}").json()
    return body


def test_retry_terminate_archive_through_v1beta1(server: ServerProcess, tmp_path: Path) -> None:
    with server.http() as http:
        run_id = _v1_run(http, "fails-once", {"marker": str(tmp_path / "marker")})
        server.wait_run(http, run_id)
        failed = _status(http, run_id)
        assert failed["run"]["status"] == "Failed"
        nodes = json.loads(failed["pipeline_runtime"]["workflow_manifest"])["status"]["nodes"]
        phases = {n["displayName"]: n["phase"] for n in nodes.values()}
        assert phases["once"] == "Failed" and phases["shout"] == "Succeeded"
        pods = [n["displayName"] for n in nodes.values() if n["type"] == "Pod"]
        assert pods.count("greet") == 2  # one per item of the withParam list
        assert http.post(f"/apis/v1beta1/runs/{run_id}/retry").status_code == 200
        server.wait_run(http, run_id)
        assert _status(http, run_id)["run"]["status"] == "Succeeded"

        long_id = _v1_run(http, "sleeps", {"marker": str(tmp_path / "m2"), "sleep": "600"})
        server.wait_run(http, long_id, frozenset({"RUNNING"}))
        assert http.post(f"/apis/v1beta1/runs/{long_id}/terminate").status_code == 200
        server.wait_run(http, long_id)
        assert _status(http, long_id)["run"]["status"] == "Failed"

        assert http.post(f"/apis/v1beta1/runs/{run_id}:archive").status_code == 200
        archived = http.get("/apis/v1beta1/runs", params={"filter": json.dumps({"predicates": [
            {"key": "storage_state", "op": "EQUALS", "string_value": "STORAGESTATE_ARCHIVED"}]})}).json()
        assert [r["id"] for r in archived["runs"]] == [run_id]
        assert archived["runs"][0]["storage_state"] == "STORAGESTATE_ARCHIVED"
        assert http.delete(f"/apis/v1beta1/runs/{long_id}").status_code == 200
        assert http.get(f"/apis/v1beta1/runs/{long_id}").status_code == 404


def test_run_metrics_come_from_mlpipeline_metrics(server: ServerProcess, tmp_path: Path) -> None:
    compiled = compile_v1("containerop.py", tmp_path)
    with server.http() as http:
        with compiled.open("rb") as f:
            up = http.post("/apis/v1beta1/pipelines/upload", params={"name": "v1-containerop-up"},
                           files={"uploadfile": ("containerop.yaml", f)})
        assert up.status_code == 200, up.text
        run = http.post("/apis/v1beta1/runs", json={"name": "with-metrics", "pipeline_spec": {
            "pipeline_id": up.json()["id"], "parameters": [{"name": "msg", "value": "m"}]}}).json()["run"]
        server.wait_run(http, run["id"])
        got = _status(http, run["id"])["run"]
        assert got["status"] == "Succeeded"
        assert [(m["name"], m["number_value"]) for m in got["metrics"]] == [("accuracy-score", 0.875)]
        template = http.get(f"/apis/v1beta1/pipelines/{up.json()['id']}/templates").json()["template"]
        assert "pipelineInfo" in template and "v1-containerop" in template
