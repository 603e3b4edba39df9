"""Bad input gets a 4xx with a JSON error saying what and where, and leaves the store
as it was."""

from __future__ import annotations

import dataclasses
import io
import json
import zipfile
from typing import Any

import httpx
import pytest
import yaml

from pipeyard.entities import Artifact
from pipeyard.store import open_store

SPEC: dict[str, Any] = {
    "pipelineInfo": {"name": "echo"},
    "schemaVersion": "2.1.0",
    "sdkVersion": "kfp-2.17.3",
    "root": {
        "inputDefinitions": {
            "parameters": {
                "count": {"parameterType": "NUMBER_INTEGER"},
                "name": {"parameterType": "STRING", "defaultValue": "x", "isOptional": True},
            }
        },
        "dag": {
            "tasks": {
                "echo": {
                    "componentRef": {"name": "comp-echo"},
                    "taskInfo": {"name": "echo"},
                    "inputs": {
                        "parameters": {"msg": {"componentInputParameter": "name"}},
                    },
                }
            }
        },
    },
    "components": {
        "comp-echo": {
            "executorLabel": "exec-echo",
            "inputDefinitions": {"parameters": {"msg": {"parameterType": "STRING"}}},
        }
    },
    "deploymentSpec": {
        "executors": {"exec-echo": {"container": {"image": "alpine", "command": ["echo"], "args": ["hi"]}}}
    },
}


def counts(http: httpx.Client) -> tuple[int, int, int, int]:
    def total(path: str) -> int:
        resp = http.get(path)
        assert resp.status_code == 200, resp.text
        return int(resp.json().get("total_size") or 0)

    return (
        total("/apis/v2beta1/pipelines"),
        total("/apis/v2beta1/runs"),
        total("/apis/v2beta1/experiments"),
        total("/apis/v2beta1/recurringruns"),
    )


def assert_error(resp: httpx.Response, status: int, *fragments: str) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert set(body) == {"error_message", "code", "message", "details"}
    for fragment in fragments:
        assert fragment in body["error_message"], body
    return body


@pytest.fixture(scope="module")
def http(server: Any) -> Any:
    with server.http() as client:
        yield client


@pytest.fixture
def unchanged(http: httpx.Client) -> Any:
    before = counts(http)
    yield
    assert counts(http) == before


def upload(http: httpx.Client, content: bytes, filename: str, **params: str) -> httpx.Response:
    return http.post(
        "/apis/v2beta1/pipelines/upload", params=params, files={"uploadfile": (filename, content)}
    )


def test_malformed_yaml(http: httpx.Client, unchanged: None) -> None:
    resp = upload(http, b"pipelineInfo: {name: x\nroot: [", "broken.yaml")
    assert_error(resp, 400, "broken.yaml", "invalid YAML at line")


def test_yaml_that_is_not_a_pipeline(http: httpx.Client, unchanged: None) -> None:
    assert_error(
        upload(http, b"apiVersion: v1\nkind: Pod\n", "pod.yaml"), 400, "pod.yaml", "not a KFP pipeline spec"
    )
    assert_error(upload(http, b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe", "image.png"), 400, "image.png")
    assert_error(upload(http, b"", "empty.yaml"), 400, "empty")


def test_archive_without_a_pipeline(http: httpx.Client, unchanged: None) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("README.md", "nothing here")
    assert_error(upload(http, buf.getvalue(), "p.zip"), 400, "p.zip", "exactly one pipeline file")


def test_spec_with_a_dangling_reference(http: httpx.Client, unchanged: None) -> None:
    bad = json.loads(json.dumps(SPEC))
    bad["root"]["dag"]["tasks"]["echo"]["componentRef"]["name"] = "comp-missing"
    resp = upload(http, yaml.safe_dump(bad).encode(), "dangling.yaml")
    assert_error(resp, 400, "comp-missing", "echo")


def test_upload_too_large(http: httpx.Client, unchanged: None) -> None:
    big = b"# " + b"x" * (32 * 1024 * 1024 + 10)
    assert_error(upload(http, big, "big.yaml"), 413, "32 MB")


def test_upload_version_needs_an_existing_pipeline(http: httpx.Client, unchanged: None) -> None:
    content = yaml.safe_dump(SPEC).encode()
    resp = http.post("/apis/v2beta1/pipelines/upload_version", files={"uploadfile": ("p.yaml", content)})
    assert_error(resp, 400, "pipelineid")
    resp = http.post(
        "/apis/v2beta1/pipelines/upload_version",
        params={"pipelineid": "no-such-pipeline"},
        files={"uploadfile": ("p.yaml", content)},
    )
    assert_error(resp, 404, "no-such-pipeline")


def create_run(http: httpx.Client, **fields: Any) -> httpx.Response:
    body = {"display_name": "bad", "pipeline_spec": SPEC, **fields}
    return http.post("/apis/v2beta1/runs", json=body)


def test_unknown_parameter(http: httpx.Client, unchanged: None) -> None:
    resp = create_run(http, runtime_config={"parameters": {"count": 1, "colour": "red"}})
    assert_error(resp, 400, "'colour'", "known parameters: count, name")


def test_wrong_parameter_type(http: httpx.Client, unchanged: None) -> None:
    resp = create_run(http, runtime_config={"parameters": {"count": "many"}})
    assert_error(resp, 400, "count")


def test_missing_required_parameter(http: httpx.Client, unchanged: None) -> None:
    assert_error(create_run(http, runtime_config={"parameters": {}}), 400, "missing", "'count'")


def test_missing_ids(http: httpx.Client, unchanged: None) -> None:
    assert_error(http.get("/apis/v2beta1/runs/nope"), 404, "run 'nope' not found")
    assert_error(http.post("/apis/v2beta1/runs/nope:terminate"), 404, "nope")
    assert_error(http.post("/apis/v2beta1/runs/nope:retry"), 404, "nope")
    assert_error(http.delete("/apis/v2beta1/runs/nope"), 404, "nope")
    assert_error(http.get("/apis/v2beta1/pipelines/nope"), 404, "pipeline 'nope'")
    assert_error(http.get("/apis/v2beta1/experiments/nope"), 404, "experiment 'nope'")
    assert_error(http.get("/apis/v2beta1/recurringruns/nope"), 404, "nope")
    assert_error(http.get("/apis/v1alpha1/runs/nope/nodes/x/log"), 404, "nope")
    assert_error(http.get("/apis/pipeyard/v1/artifacts/nope"), 404, "nope")
    ref = {"pipeline_id": "p-nope", "pipeline_version_id": "v-nope"}
    assert_error(create_run(http, pipeline_spec=None, pipeline_version_reference=ref), 404, "v-nope")
    assert_error(
        create_run(http, experiment_id="e-nope", runtime_config={"parameters": {"count": 1}}), 404, "e-nope"
    )


def test_run_without_any_spec(http: httpx.Client, unchanged: None) -> None:
    assert_error(http.post("/apis/v2beta1/runs", json={"display_name": "x"}), 400, "pipeline_spec")
    assert_error(create_run(http, pipeline_spec={"hello": "world"}), 400, "not a KFP pipeline spec")
    assert_error(
        http.post("/apis/v2beta1/runs", content=b"{not json", headers={"Content-Type": "application/json"}),
        400,
    )


def test_bad_list_parameters(http: httpx.Client, unchanged: None) -> None:
    assert_error(http.get("/apis/v2beta1/runs", params={"filter": "{oops"}), 400, "filter")
    bad_op = json.dumps({"predicates": [{"operation": "LIKE", "key": "name", "string_value": "x"}]})
    assert_error(http.get("/apis/v2beta1/runs", params={"filter": bad_op}), 400, "LIKE")
    bad_key = json.dumps({"predicates": [{"operation": 1, "key": "colour", "string_value": "x"}]})
    assert_error(http.get("/apis/v2beta1/runs", params={"filter": bad_key}), 400, "colour")
    assert_error(http.get("/apis/v2beta1/runs", params={"sort_by": "colour desc"}), 400, "colour")
    assert_error(http.get("/apis/v2beta1/runs", params={"sort_by": "created_at sideways"}), 400, "sort_by")
    assert_error(http.get("/apis/v2beta1/runs", params={"page_token": "garbage"}), 400)


def test_bad_recurring_runs(http: httpx.Client, unchanged: None) -> None:
    base = {"display_name": "r", "pipeline_spec": SPEC, "runtime_config": {"parameters": {"count": 1}}}
    bad_cron = {**base, "trigger": {"cron_schedule": {"cron": "every tuesday"}}}
    assert_error(http.post("/apis/v2beta1/recurringruns", json=bad_cron), 400, "cron")
    no_trigger = {**base}
    assert_error(http.post("/apis/v2beta1/recurringruns", json=no_trigger), 400, "trigger")
    bad_interval = {**base, "trigger": {"periodic_schedule": {"interval_second": "0"}}}
    assert_error(http.post("/apis/v2beta1/recurringruns", json=bad_interval), 400, "interval_second")
    too_many = {**base, "max_concurrency": "50", "trigger": {"periodic_schedule": {"interval_second": "60"}}}
    assert_error(http.post("/apis/v2beta1/recurringruns", json=too_many), 400, "max_concurrency")
    bad_param = {
        **base,
        "runtime_config": {"parameters": {"count": "x"}},
        "trigger": {"periodic_schedule": {"interval_second": 60}},
    }
    assert_error(http.post("/apis/v2beta1/recurringruns", json=bad_param), 400, "count")


def test_paths_outside_the_allowed_roots_are_refused(server: Any, http: httpx.Client) -> None:
    # A run whose recorded log path escapes the logs directory must not be served:
    # craft it through the store the server uses, as a tampered database would.
    url = server.database_url or f"sqlite:///{server.home / 'pipeyard.db'}"
    resp = create_run(http, runtime_config={"parameters": {"count": 1}})
    assert resp.status_code == 200, resp.text
    run = server.wait_run(http, resp.json()["run_id"])
    task = next(t for t in run["run_details"]["task_details"] if t["display_name"] == "echo")
    store = open_store(url)
    try:
        attempts = store.list_attempts(task["task_id"])
        assert attempts, "the task recorded no attempt"
        for evil in (str(server.home / "logs" / ".." / "pipeyard.db"), "/etc/passwd", "../../etc/passwd"):
            store.put_attempt(dataclasses.replace(attempts[-1], log_path=evil))
            got = http.get(f"/apis/v1alpha1/runs/{run['run_id']}/nodes/{task['task_id']}/log")
            assert 400 <= got.status_code < 500, (evil, got.status_code, got.text[:200])
            assert "Processing" not in got.text and "root:" not in got.text
        # Artifact content: an artifact whose URI points outside the pipeline root.
        art = Artifact(
            artifact_id=f"evil-{task['task_id'][:8]}",
            run_id=run["run_id"],
            task_id=task["task_id"],
            name="evil",
            uri="/etc/passwd",
            schema_title="system.Artifact",
            created_at=attempts[-1].started_at,
        )
        store.record_task_result(store.get_task(task["task_id"]), [art], [])
        got = http.get(f"/apis/pipeyard/v1/artifacts/{art.artifact_id}/content")
        assert_error(got, 403, "outside")
        rel = dataclasses.replace(art, artifact_id=art.artifact_id + "-rel", uri="../../../../etc/passwd")
        store.record_task_result(store.get_task(task["task_id"]), [rel], [])
        assert_error(http.get(f"/apis/pipeyard/v1/artifacts/{rel.artifact_id}/content"), 403)
    finally:
        store.close()
