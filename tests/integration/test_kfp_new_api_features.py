"""KFP 2.14-2.17 API features and root input artifacts, end to end: pipelines compiled
here by the real kfp compiler, submitted by the real ``kfp.Client`` / CLI to a real
server or run, outcomes read back.

- root input artifacts: ``pipeyard run --artifact``, ``runtime_config.pipeyard_input_artifacts``,
  kept across a retry;
- ``literals`` of a parameter (KFP's ``Literal[...]``): 400 / exit 2 naming the allowed values;
- tags on pipelines and versions: upload, PATCH, ``tags.<key>`` filters, clearing;
- the Kubernetes-native format (``kind: Pipeline`` + ``kind: PipelineVersion``).
"""

# No `from __future__ import annotations`: kfp reads component signatures at decoration time.

import json
import uuid
from pathlib import Path
from typing import Any

import kfp_server_api
import pytest
import yaml
from kfp import compiler, dsl
from kfp.compiler.compiler_utils import KubernetesManifestOptions
from tests.integration.conftest import ServerProcess
from tests.support.pipeline_runs import cli_json, compile_pipeline, run_cli


@dsl.component(base_image="python:3.11")
def read_data(data: dsl.Input[dsl.Dataset], flag: str) -> str:
    import os

    if flag and not os.path.exists(flag):
        raise RuntimeError(f"flag {flag} is missing")
    path = data.path
    if os.path.isdir(path):
        return ",".join(sorted(os.listdir(path)))
    with open(path) as f:
        return f.read()


@dsl.pipeline(name="root-artifact")
def root_artifact(data: dsl.Input[dsl.Dataset], flag: str = "") -> str:
    return read_data(data=data, flag=flag).output


@dsl.component(base_image="python:3.11")
def go(mode: str) -> str:
    return mode


@dsl.pipeline(name="literal-mode")
def literal_mode(mode: str = "fast") -> str:
    return go(mode=mode).output


def _with_literals(path: Path, name: str, allowed: list[Any]) -> Path:
    """What a Literal[...] annotation compiles to: ``literals`` on the root's parameter
    (kfp 2.17.3's SDK does not write them yet; the spec and KFP's backend have them)."""
    doc = yaml.safe_load(path.read_text())
    doc["root"]["inputDefinitions"]["parameters"][name]["literals"] = allowed
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


# --------------------------------------------------------------------------- root artifacts


def test_cli_artifact_is_imported_into_the_pipeline_root(tmp_path: Path) -> None:
    home = tmp_path / "home"
    package = compile_pipeline(root_artifact, tmp_path / "root.yaml")
    data = tmp_path / "data.txt"
    data.write_text("rows from a file")
    code, doc = cli_json(home, "run", str(package), "--artifact", f"data={data}")
    assert code == 0, doc
    assert doc["outputs"]["Output"] == "rows from a file"
    data.write_text("changed afterwards")  # the run used its own copy
    imported = list((home).rglob("_inputs/*/data.txt"))
    assert [p.read_text() for p in imported] == ["rows from a file"]

    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "a.csv").write_text("1")
    (folder / "b.csv").write_text("2")
    code, doc = cli_json(home, "run", str(package), "--artifact", f"data={folder}")
    assert code == 0 and doc["outputs"]["Output"] == "a.csv,b.csv"


def test_cli_artifact_errors_are_usage_errors(tmp_path: Path) -> None:
    home = tmp_path / "home"
    package = compile_pipeline(root_artifact, tmp_path / "root.yaml")
    wrong = run_cli(home, "run", str(package), "--artifact", f"nope={package}")
    assert wrong.returncode == 2 and "no input artifact 'nope'" in wrong.stderr and "data" in wrong.stderr
    missing = run_cli(home, "run", str(package), "--artifact", f"data={tmp_path / 'absent.txt'}")
    assert missing.returncode == 2 and "does not exist" in missing.stderr


def test_api_artifact_is_stored_with_the_run_and_kept_by_retry(server: ServerProcess, tmp_path: Path) -> None:
    package = compile_pipeline(root_artifact, tmp_path / "root.yaml")
    data = tmp_path / "api-data.txt"
    data.write_text("from the api")
    flag = tmp_path / "flag"
    spec = yaml.safe_load(package.read_text())
    body = {"display_name": "with-artifact", "pipeline_spec": spec,
            "runtime_config": {"parameters": {"flag": str(flag)},
                               "pipeyard_input_artifacts": {"data": str(data)}}}
    with server.http() as http:
        created = http.post("/apis/v2beta1/runs", json=body)
        assert created.status_code == 200, created.text
        run_id = created.json()["run_id"]
        assert created.json()["runtime_config"]["pipeyard_input_artifacts"] == {"data": str(data)}
        failed = server.wait_run(http, run_id)
        assert failed["state"] == "FAILED"
        flag.write_text("")
        assert http.post(f"/apis/v2beta1/runs/{run_id}:retry").status_code == 200
        done = server.wait_run(http, run_id, frozenset({"SUCCEEDED", "FAILED", "CANCELED"}))
        assert done["state"] == "SUCCEEDED"
        ran = http.get(f"/apis/pipeyard/v1/runs/{run_id}/tasks").json()["tasks"]
        outputs = [t["outputs"]["parameters"]["Output"] for t in ran if t["name"] == "read-data"]
        assert outputs == ["from the api"]

        bad = dict(body, runtime_config={"pipeyard_input_artifacts": {"data": "relative/path.txt"}})
        resp = http.post("/apis/v2beta1/runs", json=bad)
        assert resp.status_code == 400 and "pipeyard_input_artifacts" in resp.text


# --------------------------------------------------------------------------- literals


def test_literal_parameters_are_checked_at_creation(server: ServerProcess, tmp_path: Path) -> None:
    package = _with_literals(compile_pipeline(literal_mode, tmp_path / "lit.yaml"), "mode", ["fast", "slow"])
    client = server.client()
    with pytest.raises(kfp_server_api.ApiException) as err:
        client.create_run_from_pipeline_package(str(package), arguments={"mode": "medium"})
    assert err.value.status == 400
    message = json.loads(err.value.body)["message"]
    assert message == "mode: 'medium' is not one of the allowed values: \"fast\", \"slow\""
    ok = client.create_run_from_pipeline_package(str(package), arguments={"mode": "slow"})
    assert client.wait_for_run_completion(ok.run_id, timeout=300).state == "SUCCEEDED"

    cli = run_cli(tmp_path / "home", "run", str(package), "--arg", "mode=medium")
    assert cli.returncode == 2 and '"fast", "slow"' in cli.stderr


# --------------------------------------------------------------------------- tags


def test_tags_on_pipelines_and_versions(server: ServerProcess, tmp_path: Path) -> None:
    package = compile_pipeline(literal_mode, tmp_path / "tagged.yaml")
    name = f"tagged-{uuid.uuid4().hex[:6]}"
    api = server.client()._upload_api
    pipelines = server.client()._pipelines_api
    created = api.upload_pipeline(str(package), name=name, tags=json.dumps({"team": "ml", "tier": "gold"}))
    assert created.tags == {"team": "ml", "tier": "gold"}
    other = api.upload_pipeline(str(package), name=name + "-b", tags=json.dumps({"team": "ops"}))

    def named(team: str) -> set[str]:
        flt = json.dumps({"predicates": [{"key": "tags.team", "operation": "EQUALS", "stringValue": team}]})
        listed = pipelines.pipeline_service_list_pipelines(filter=flt, page_size=100).pipelines or []
        return {p.display_name for p in listed}

    assert name in named("ml") and name + "-b" not in named("ml") and name + "-b" in named("ops")

    updated = pipelines.pipeline_service_update_pipeline(
        created.pipeline_id, kfp_server_api.V2beta1Pipeline(pipeline_id=created.pipeline_id,
                                                            tags={"team": "ops"}))
    assert updated.tags == {"team": "ops"} and updated.display_name == name  # untouched
    assert name in named("ops") and name not in named("ml")

    with server.http() as http:
        bad = http.patch(f"/apis/v2beta1/pipelines/{created.pipeline_id}", json={"tags": {"a.b": "x"}})
        assert bad.status_code == 400 and "must not contain '.'" in bad.text
        cleared = http.patch(f"/apis/v2beta1/pipelines/{created.pipeline_id}", json={"tags": {}})
        assert cleared.status_code == 200 and cleared.json()["tags"] == {}
        bad_filter = http.get("/apis/v2beta1/pipelines", params={"filter": json.dumps(
            {"predicates": [{"key": "tags.team", "operation": "NOT_EQUALS", "string_value": "x"}]})})
        assert bad_filter.status_code == 400 and "EQUALS" in bad_filter.text

    version = api.upload_pipeline_version(str(package), name="v-tagged", pipelineid=other.pipeline_id,
                                          tags=json.dumps({"stage": "canary"}))
    assert version.tags == {"stage": "canary"}
    renamed = pipelines.pipeline_service_update_pipeline_version(
        other.pipeline_id, version.pipeline_version_id,
        kfp_server_api.V2beta1PipelineVersion(pipeline_id=other.pipeline_id,
                                              pipeline_version_id=version.pipeline_version_id,
                                              display_name="canary build", tags={"stage": "prod"}))
    assert renamed.display_name == "canary build" and renamed.tags == {"stage": "prod"}
    flt = json.dumps({"predicates": [{"key": "tags.stage", "operation": "EQUALS", "stringValue": "prod"}]})
    listed = pipelines.pipeline_service_list_pipeline_versions(other.pipeline_id, filter=flt).pipeline_versions
    assert [v.pipeline_version_id for v in listed] == [version.pipeline_version_id]
    fetched = pipelines.pipeline_service_get_pipeline_version(other.pipeline_id, version.pipeline_version_id)
    assert fetched.tags == {"stage": "prod"}


# --------------------------------------------------------------------------- Kubernetes format


def _k8s_package(tmp_path: Path) -> Path:
    path = tmp_path / "k8s.yaml"
    compiler.Compiler().compile(
        literal_mode, str(path), kubernetes_manifest_format=True,
        kubernetes_manifest_options=KubernetesManifestOptions(pipeline_name="literal-mode",
                                                              include_pipeline_manifest=True))
    kinds = [d["kind"] for d in yaml.safe_load_all(path.read_text())]
    assert kinds == ["Pipeline", "PipelineVersion"]
    return path


def test_kubernetes_manifest_format_everywhere(server: ServerProcess, tmp_path: Path) -> None:
    package = _k8s_package(tmp_path)
    code, doc = cli_json(tmp_path / "home", "run", str(package), "--arg", "mode=k8s")
    assert code == 0 and doc["outputs"]["Output"] == "k8s"

    client = server.client()
    name = f"k8s-{uuid.uuid4().hex[:6]}"
    pipeline = client.upload_pipeline(str(package), pipeline_name=name)
    version = client.upload_pipeline_version(str(package), pipeline_version_name="second",
                                             pipeline_id=pipeline.pipeline_id)
    run = client.run_pipeline(experiment_id=client.create_experiment(name).experiment_id, job_name="k8s-run",
                              pipeline_id=pipeline.pipeline_id, version_id=version.pipeline_version_id,
                              params={"mode": "uploaded"})
    finished = client.wait_for_run_completion(run.run_id, timeout=300)
    assert finished.state == "SUCCEEDED"

    with server.http() as http:
        # kfp.Client parses files itself before create_run_from_pipeline_package; an inline
        # manifest sent as pipeline_spec is accepted by the server too.
        docs = list(yaml.safe_load_all(package.read_text()))
        resp = http.post("/apis/v2beta1/runs", json={"display_name": "inline-k8s", "pipeline_spec": docs[1],
                                                     "runtime_config": {"parameters": {"mode": "inline"}}})
        assert resp.status_code == 200, resp.text
        assert server.wait_run(http, resp.json()["run_id"])["state"] == "SUCCEEDED"
