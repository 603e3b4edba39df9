"""The Kubernetes-native format that ``kfp dsl compile --kubernetes-manifest-format``
writes, compiled here by the real kfp compiler, loaded like any pipeline file."""

# No `from __future__ import annotations`: kfp reads component signatures at decoration time.

from pathlib import Path

import pytest
import yaml
from kfp import compiler, dsl, kubernetes
from kfp.compiler.compiler_utils import KubernetesManifestOptions

from pipeyard.errors import SpecError
from pipeyard.ir.loader import load_pipeline_bytes, load_pipeline_file


@dsl.component(base_image="python:3.11")
def hello(name: str) -> str:
    return f"hello {name}"


@dsl.pipeline(name="k8s-hello", description="greets")
def hello_pipeline(name: str = "world") -> str:
    task = hello(name=name)
    kubernetes.use_secret_as_env(task, secret_name="creds", secret_key_to_env={"token": "TOKEN"})
    return task.output


def _compile(tmp_path: Path, include_pipeline: bool) -> Path:
    out = tmp_path / "k8s.yaml"
    compiler.Compiler().compile(
        hello_pipeline, str(out), kubernetes_manifest_format=True,
        kubernetes_manifest_options=KubernetesManifestOptions(
            pipeline_name="k8s-hello", include_pipeline_manifest=include_pipeline),
    )
    return out


@pytest.mark.parametrize("include_pipeline", [True, False])
def test_manifest_loads_its_spec_and_platform_spec(tmp_path: Path, include_pipeline: bool) -> None:
    path = _compile(tmp_path, include_pipeline)
    loaded = load_pipeline_file(path)
    assert loaded.spec.pipeline_info.name == "k8s-hello"
    assert list(loaded.spec.root.input_definitions.parameters) == ["name"]
    assert loaded.platform_spec is not None
    assert "creds" in yaml.safe_dump(loaded.platform_spec)
    # The same through an upload (bytes) and as a .zip member's name would give.
    assert load_pipeline_bytes(path.read_bytes(), "k8s.yaml").spec == loaded.spec


def test_a_pipeline_document_alone_is_refused(tmp_path: Path) -> None:
    docs = list(yaml.safe_load_all(_compile(tmp_path, True).read_text()))
    only_pipeline = yaml.safe_dump(docs[0]).encode()
    with pytest.raises(SpecError, match="exactly one kind: PipelineVersion document.*found no"):
        load_pipeline_bytes(only_pipeline, "p.yaml")


def test_a_version_without_a_spec_is_refused(tmp_path: Path) -> None:
    docs = list(yaml.safe_load_all(_compile(tmp_path, False).read_text()))
    del docs[0]["spec"]["pipelineSpec"]
    with pytest.raises(SpecError, match="no spec.pipelineSpec"):
        load_pipeline_bytes(yaml.safe_dump(docs[0]).encode(), "v.yaml")
