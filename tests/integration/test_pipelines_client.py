"""kfp 2.17's name-first ``kfp.kubeflow_client.PipelinesClient`` against a real server.

The client sends ``namespace=`` on every list (here "team-a", as a kubeconfig context
would give it); a single-user server ignores it as KFP does. Every public method of
the client is called and its outcome checked.
"""

# No `from __future__ import annotations`: kfp reads component signatures at decoration time.

import uuid
from pathlib import Path
from typing import Any

import pytest
from kfp import compiler, dsl
from kfp.kubeflow_client import KubernetesBackendConfig, PipelinesClient, constants
from tests.integration.conftest import ServerProcess


@dsl.component(base_image="python:3.11")
def double(x: int) -> int:
    return 2 * x


@dsl.component(base_image="python:3.11")
def must_be_small(x: int) -> int:
    if x > 100:
        raise ValueError(f"{x} is too big")
    return x


@dsl.pipeline(name="pc-double")
def double_pipeline(x: int = 3) -> int:
    return double(x=x).output


@dsl.pipeline(name="pc-small")
def small_pipeline(x: int = 1) -> None:
    must_be_small(x=x)


@pytest.fixture(scope="module")
def pc(server: ServerProcess) -> PipelinesClient:
    # A namespace as kubeconfig would give it: KFP in single-user mode ignores it.
    return PipelinesClient(KubernetesBackendConfig(base_url=server.url, namespace="team-a"))


def _wait(pc: PipelinesClient, run: Any) -> Any:
    return pc.wait_for_run_status(run, timeout=300, polling_interval=1)


def test_upload_get_list_and_delete_pipelines(pc: PipelinesClient, tmp_path: Path) -> None:
    name = f"pc-up-{uuid.uuid4().hex[:6]}"
    v1 = pc.upload_pipeline(double_pipeline, name=name, version="v1", description="doubles")
    assert v1.display_name == "v1"  # renamed through PATCH .../versions/{id}
    pipeline = pc.get_pipeline(name)
    assert pipeline.display_name == name and pipeline.pipeline_id == v1.pipeline_id

    package = tmp_path / "double.yaml"
    compiler.Compiler().compile(double_pipeline, str(package))
    v2 = pc.upload_pipeline(str(package), name=name, version="v2")
    assert v2.pipeline_id == pipeline.pipeline_id and v2.display_name == "v2"
    unnamed = pc.upload_pipeline(str(package), name=name)  # a new version each time
    assert unnamed.pipeline_version_id not in (v1.pipeline_version_id, v2.pipeline_version_id)

    assert pc.get_pipeline_version(name, "v2").pipeline_version_id == v2.pipeline_version_id
    versions = pc.list_pipeline_versions(name, page_size=10).pipeline_versions
    assert {v.display_name for v in versions} >= {"v1", "v2"} and len(versions) == 3
    listed = pc.list_pipelines(page_size=100).pipelines
    assert name in {p.display_name for p in listed}

    pc.delete_pipeline(name, version="v1")
    assert {v.display_name for v in pc.list_pipeline_versions(name).pipeline_versions} == {
        "v2", unnamed.display_name}
    with pytest.raises(ValueError, match="multiple versions"):
        pc.delete_pipeline(name)
    pc.delete_pipeline(name, force=True)
    with pytest.raises(ValueError, match="not found"):
        pc.get_pipeline(name)


def test_experiments(pc: PipelinesClient) -> None:
    name = f"pc-exp-{uuid.uuid4().hex[:6]}"
    created = pc.create_experiment(name, description="d")
    assert created.display_name == name and created.description == "d"
    assert pc.create_experiment(name).experiment_id == created.experiment_id  # existing one
    assert pc.get_experiment(name).experiment_id == created.experiment_id
    names = {e.display_name for e in pc.list_experiments(page_size=100).experiments}
    assert name in names
    pc.delete_experiment(name)
    with pytest.raises(ValueError, match="not found"):
        pc.get_experiment(name)


def test_runs_by_every_kind_of_pipeline_and_filters(pc: PipelinesClient, tmp_path: Path) -> None:
    exp = f"pc-runs-{uuid.uuid4().hex[:6]}"
    pc.create_experiment(exp)
    pname = f"pc-double-{uuid.uuid4().hex[:6]}"
    version = pc.upload_pipeline(double_pipeline, name=pname, version="first")
    package = tmp_path / "small.yaml"
    compiler.Compiler().compile(small_pipeline, str(package))

    by_name = pc.run(pname, params={"x": 5}, experiment=exp, version="first")
    by_object = pc.run(pc.get_pipeline(pname), params={"x": 6}, experiment=exp)
    by_version = pc.run(version, params={"x": 7}, experiment=exp, name="by-version")
    by_callable = pc.run(double_pipeline, params={"x": 8}, experiment=exp)
    by_file = pc.run(str(package), params={"x": 1000}, experiment=exp)

    done = {r.run_id: _wait(pc, r) for r in (by_name, by_object, by_version, by_callable, by_file)}
    assert {k: v.state for k, v in done.items()} == {
        by_name.run_id: "SUCCEEDED", by_object.run_id: "SUCCEEDED", by_version.run_id: "SUCCEEDED",
        by_callable.run_id: "SUCCEEDED", by_file.run_id: "FAILED"}
    assert pc.get_run(by_version.run_id).display_name == "by-version"
    assert pc.get_run(by_name.run_id).runtime_config.parameters == {"x": 5}

    in_exp = pc.list_runs(experiment=exp, page_size=50).runs
    assert {r.run_id for r in in_exp} == set(done)
    failed = pc.list_runs(experiment=exp, status=constants.RUN_FAILED).runs
    assert [r.run_id for r in failed] == [by_file.run_id]
    succeeded = pc.list_runs(status="succeeded", page_size=100).runs
    assert {by_name.run_id, by_object.run_id, by_version.run_id} <= {r.run_id for r in succeeded}
    of_pipeline = pc.list_runs(pipeline=pname, page_size=100).runs
    assert {r.run_id for r in of_pipeline} == {by_name.run_id, by_object.run_id, by_version.run_id}

    seen: list[str] = []
    final = pc.wait_for_run_status(by_name.run_id, status={constants.RUN_SUCCEEDED},
                                   callbacks=[lambda r: seen.append(r.state)])
    assert final.state == "SUCCEEDED" and seen == ["SUCCEEDED"]


def test_kfp_client_escape_hatch(pc: PipelinesClient) -> None:
    # The underlying kfp.Client, with the same host and namespace, sees the same server.
    assert pc.kfp_client.get_kfp_healthz().multi_user is False
    assert pc.kfp_client.list_experiments(page_size=1) is not None
