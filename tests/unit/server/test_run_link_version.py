"""A run from a package, saved as a pipeline through the upload API, is linked to the new
version (POST /apis/pipeyard/v1/runs/{id}:link-version), so a reload shows the version."""

# No `from __future__ import annotations`: kfp reads component signatures at decoration time.
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient
from kfp import compiler, dsl

from pipeyard.config import Settings
from pipeyard.server.app import create_app
from pipeyard.store import open_store


@dsl.component(base_image="python:3.11")
def hello(name: str) -> str:
    return f"hello {name}"


@dsl.pipeline(name="saved-from-run")
def saved_from_run(name: str = "world") -> None:
    hello(name=name)


@dsl.pipeline(name="another-pipeline")
def another_pipeline() -> None:
    hello(name="other")


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings.from_env({"PIPEYARD_HOME": str(tmp_path / "home")})
    settings.ensure_dirs()
    with open_store(settings.database_url) as store:
        yield TestClient(create_app(settings, store, start_workers=False), base_url="http://127.0.0.1")


def _upload(client: TestClient, path: Path, name: str) -> str:
    answer = client.post(
        "/apis/v2beta1/pipelines/upload",
        params={"name": name},
        files={"uploadfile": (path.name, path.read_bytes())},
    )
    assert answer.status_code == 200, answer.text
    pipeline_id = answer.json()["pipeline_id"]
    versions = client.get(f"/apis/v2beta1/pipelines/{pipeline_id}/versions").json()["pipeline_versions"]
    return str(versions[0]["pipeline_version_id"])


def test_a_saved_runs_link_survives_a_reload(client: TestClient, tmp_path: Path) -> None:
    package = tmp_path / "p.yaml"
    compiler.Compiler().compile(saved_from_run, str(package))
    run = client.post(
        "/apis/v2beta1/runs", json={"display_name": "r", "pipeline_spec": yaml.safe_load(package.read_text())}
    )
    assert run.status_code == 200, run.text
    run_id = run.json()["run_id"]
    assert "pipeline_version_reference" not in run.json()
    version_id = _upload(client, package, "saved-from-run")

    linked = client.post(
        f"/apis/pipeyard/v1/runs/{run_id}:link-version", json={"pipeline_version_id": version_id}
    )
    assert linked.status_code == 200, linked.text
    reloaded = client.get(f"/apis/v2beta1/runs/{run_id}").json()
    assert reloaded["pipeline_version_reference"]["pipeline_version_id"] == version_id
    assert reloaded["pipeline_name"] == "saved-from-run"
    # the spec the run ran is still served to the UI
    spec = client.get(f"/apis/pipeyard/v1/runs/{run_id}/spec")
    assert (
        spec.status_code == 200 and spec.json()["pipeline_spec"]["pipelineInfo"]["name"] == "saved-from-run"
    )


def test_a_version_with_another_spec_is_refused(client: TestClient, tmp_path: Path) -> None:
    mine, other = tmp_path / "mine.yaml", tmp_path / "other.yaml"
    compiler.Compiler().compile(saved_from_run, str(mine))
    compiler.Compiler().compile(another_pipeline, str(other))
    run_id = client.post(
        "/apis/v2beta1/runs", json={"display_name": "r", "pipeline_spec": yaml.safe_load(mine.read_text())}
    ).json()["run_id"]
    version_id = _upload(client, other, "another-pipeline")
    answer = client.post(
        f"/apis/pipeyard/v1/runs/{run_id}:link-version", json={"pipeline_version_id": version_id}
    )
    assert answer.status_code == 409
    assert "does not hold the spec" in answer.json()["message"]
    assert "pipeline_version_reference" not in client.get(f"/apis/v2beta1/runs/{run_id}").json()
