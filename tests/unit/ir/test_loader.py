from __future__ import annotations

import io
import json
import tarfile
import textwrap
import zipfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.conftest import CONFORMANCE_PIPELINES

from pipeyard.errors import SpecError
from pipeyard.ir.loader import (
    LoadedPipeline,
    dict_to_spec,
    load_pipeline_bytes,
    load_pipeline_file,
    spec_to_dict,
)

CONFORMANCE = CONFORMANCE_PIPELINES
needs_conformance = pytest.mark.usefixtures("conformance_pipelines")

MINIMAL: dict[str, Any] = {
    "pipelineInfo": {"name": "tiny"},
    "schemaVersion": "2.1.0",
    "sdkVersion": "kfp-2.14.3",
    "components": {"comp-echo": {"executorLabel": "exec-echo"}},
    "deploymentSpec": {
        "executors": {"exec-echo": {"container": {"image": "alpine", "command": ["echo", "hi"]}}}
    },
    "root": {
        "dag": {
            "tasks": {
                "a": {"componentRef": {"name": "comp-echo"}, "taskInfo": {"name": "a"}},
                "b": {
                    "componentRef": {"name": "comp-echo"},
                    "taskInfo": {"name": "b"},
                    "dependentTasks": ["a"],
                },
            }
        }
    },
}


def _yaml(d: dict[str, Any]) -> bytes:
    return yaml.safe_dump(d).encode()


def _broken(**edits: Any) -> dict[str, Any]:
    d = json.loads(json.dumps(MINIMAL))
    tasks = d["root"]["dag"]["tasks"]
    tasks["b"].update(edits)
    return d


@needs_conformance
def test_every_conformance_pipeline_loads() -> None:
    files = sorted(p for p in CONFORMANCE.iterdir() if p.suffix in (".yaml", ".json"))
    assert len(files) > 100
    for f in files:
        loaded = load_pipeline_file(f)
        assert loaded.source == f.name
        assert loaded.spec.pipeline_info.name, f
        assert loaded.spec.root.dag.tasks, f


@needs_conformance
def test_platform_spec_is_the_second_document() -> None:
    loaded = load_pipeline_file(CONFORMANCE / "pipeline_with_volume.yaml")
    assert loaded.platform_spec is not None
    executors = loaded.platform_spec["platforms"]["kubernetes"]["deploymentSpec"]["executors"]
    assert executors["exec-consumer"]["pvcMount"][0]["mountPath"] == "/data"
    assert load_pipeline_file(CONFORMANCE / "hello_world.yaml").platform_spec is None


@needs_conformance
def test_json_file_loads() -> None:
    loaded = load_pipeline_file(CONFORMANCE / "pipeline_with_importer.json")
    assert loaded.spec.deployment_spec["executors"]


def test_minimal_yaml_and_round_trip() -> None:
    loaded = load_pipeline_bytes(_yaml(MINIMAL), "tiny.yaml")
    assert isinstance(loaded, LoadedPipeline)
    assert list(loaded.spec.root.dag.tasks["b"].dependent_tasks) == ["a"]
    d = spec_to_dict(loaded.spec)
    assert d["root"]["dag"]["tasks"]["b"]["componentRef"]["name"] == "comp-echo"
    assert dict_to_spec(d) == loaded.spec


def test_unknown_fields_are_ignored() -> None:
    d = json.loads(json.dumps(MINIMAL))
    d["someFutureField"] = {"x": 1}
    assert load_pipeline_bytes(_yaml(d), "p.yaml").spec.pipeline_info.name == "tiny"


def test_wrapped_client_form() -> None:
    wrapped = {"pipeline_spec": MINIMAL, "platform_spec": {"platforms": {"kubernetes": {}}}}
    loaded = load_pipeline_bytes(json.dumps(wrapped).encode(), "p.json")
    assert loaded.spec.pipeline_info.name == "tiny"
    assert loaded.platform_spec == {"platforms": {"kubernetes": {}}}


def test_yaml_syntax_error_names_file_and_line() -> None:
    text = b"pipelineInfo:\n  name: x\nroot: [unclosed\n"
    with pytest.raises(SpecError) as e:
        load_pipeline_bytes(text, "bad.yaml")
    assert e.value.where == "bad.yaml"
    assert "line" in e.value.reason


def test_json_syntax_error_names_line() -> None:
    with pytest.raises(SpecError, match="line 2"):
        load_pipeline_bytes(b'{"a": 1,\n oops}', "bad.json")


@pytest.mark.parametrize(
    "content, missing",
    [
        (b"- just\n- a list\n", "root"),
        (b"hello: world\n", "root"),
        (b"root: {}\n", "pipelineInfo"),
        (b"", "root"),
    ],
)
def test_not_a_pipeline_spec(content: bytes, missing: str) -> None:
    with pytest.raises(SpecError, match=f"not a KFP pipeline spec \\(missing {missing}\\)"):
        load_pipeline_bytes(content, "x.yaml")


def test_unknown_component_ref() -> None:
    with pytest.raises(SpecError) as e:
        load_pipeline_bytes(_yaml(_broken(componentRef={"name": "comp-nope"})), "p.yaml")
    assert e.value.where == "p.yaml: task 'b'"
    assert "componentRef.name 'comp-nope'" in e.value.reason


def test_unknown_dependent_task() -> None:
    with pytest.raises(SpecError, match="dependentTasks names task 'ghost'") as e:
        load_pipeline_bytes(_yaml(_broken(dependentTasks=["ghost"])), "p.yaml")
    assert "task 'b'" in str(e.value)


def test_unknown_producer_task() -> None:
    inputs = {
        "parameters": {"x": {"taskOutputParameter": {"producerTask": "ghost", "outputParameterKey": "o"}}}
    }
    with pytest.raises(SpecError, match=r"inputs.parameters\['x'\] names task 'ghost'"):
        load_pipeline_bytes(_yaml(_broken(inputs=inputs)), "p.yaml")
    inputs = {"artifacts": {"m": {"taskOutputArtifact": {"producerTask": "ghost", "outputArtifactKey": "o"}}}}
    with pytest.raises(SpecError, match=r"inputs.artifacts\['m'\]"):
        load_pipeline_bytes(_yaml(_broken(inputs=inputs)), "p.yaml")


def test_unknown_executor_label() -> None:
    d = json.loads(json.dumps(MINIMAL))
    d["components"]["comp-echo"]["executorLabel"] = "exec-missing"
    with pytest.raises(SpecError, match="executorLabel 'exec-missing'") as e:
        load_pipeline_bytes(_yaml(d), "p.yaml")
    assert "comp-echo" in str(e.value.where)


# --------------------------------------------------------------------------- archives


def _zip(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buf.getvalue()


def _targz(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def test_zip_with_one_pipeline_at_any_depth() -> None:
    data = _zip(
        {"dir/sub/pipeline.yaml": _yaml(MINIMAL), "__MACOSX/dir/._pipeline.yaml": b"junk", "README": b"x"}
    )
    assert load_pipeline_bytes(data, "p.zip").spec.pipeline_info.name == "tiny"


def test_tar_gz_and_magic_bytes_detection() -> None:
    data = _targz({"pipeline.yml": _yaml(MINIMAL)})
    assert load_pipeline_bytes(data, "p.tar.gz").spec.pipeline_info.name == "tiny"
    # An upload without a telling name is recognised by its content.
    assert load_pipeline_bytes(data, "upload").spec.pipeline_info.name == "tiny"
    assert load_pipeline_bytes(_zip({"a.json": json.dumps(MINIMAL).encode()}), "").source == "<upload>"


@pytest.mark.parametrize("files", [{}, {"a.yaml": b"x", "b.yaml": b"y"}, {"notes.txt": b"x"}])
def test_archive_must_hold_exactly_one_pipeline(files: dict[str, bytes]) -> None:
    with pytest.raises(SpecError, match="exactly one pipeline file"):
        load_pipeline_bytes(_zip(files), "p.zip")


def test_archive_on_disk(tmp_path: Path) -> None:
    path = tmp_path / "p.tgz"
    path.write_bytes(_targz({"x/p.yaml": _yaml(MINIMAL)}))
    assert load_pipeline_file(path).source == "p.tgz"


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="cannot read"):
        load_pipeline_file(tmp_path / "nope.yaml")


# --------------------------------------------------------------------------- .py files

PY_PIPELINES = textwrap.dedent(
    """
    from kfp import dsl

    @dsl.component
    def add(a: int, b: int) -> int:
        return a + b

    @dsl.pipeline(name="inner-pipe")
    def inner(x: int = 1) -> int:
        return add(a=x, b=2).output

    @dsl.pipeline(name="outer-pipe")
    def outer(y: int = 3):
        inner(x=y)
    """
)


def test_py_file_is_compiled(tmp_path: Path) -> None:
    path = tmp_path / "pipe.py"
    path.write_text(PY_PIPELINES)
    loaded = load_pipeline_file(path)
    # The inner pipeline is used by the outer one, so the outer one is chosen.
    assert loaded.spec.pipeline_info.name == "outer-pipe"
    assert "comp-inner-pipe" in loaded.spec.components
    assert loaded.source == "pipe.py"
    # Either the function name or the pipeline name selects one explicitly.
    assert load_pipeline_file(path, "inner").spec.pipeline_info.name == "inner-pipe"
    assert load_pipeline_file(path, "inner-pipe").spec.pipeline_info.name == "inner-pipe"


def test_py_file_with_two_independent_pipelines(tmp_path: Path) -> None:
    path = tmp_path / "two.py"
    path.write_text(
        textwrap.dedent(
            """
            from kfp import dsl

            @dsl.component
            def hello():
                print("hi")

            @dsl.pipeline
            def first():
                hello()

            @dsl.pipeline
            def second():
                hello()
            """
        )
    )
    with pytest.raises(SpecError, match="several pipelines \\(first, second\\)"):
        load_pipeline_file(path)
    assert load_pipeline_file(path, pipeline_name="second").spec.pipeline_info.name == "second"
    with pytest.raises(SpecError, match="no pipeline named 'third'"):
        load_pipeline_file(path, pipeline_name="third")


def test_py_file_imports_siblings(tmp_path: Path) -> None:
    (tmp_path / "my_components.py").write_text(
        "from kfp import dsl\n\n@dsl.component\ndef hello():\n    print('hi')\n"
    )
    (tmp_path / "main.py").write_text(
        "from kfp import dsl\nfrom my_components import hello\n\n@dsl.pipeline\ndef p():\n    hello()\n"
    )
    assert load_pipeline_file(tmp_path / "main.py").spec.pipeline_info.name == "p"


def test_py_file_without_pipeline(tmp_path: Path) -> None:
    path = tmp_path / "none.py"
    path.write_text("x = 1\n")
    with pytest.raises(SpecError, match="no @dsl.pipeline"):
        load_pipeline_file(path)


def test_py_file_that_fails_to_import(tmp_path: Path) -> None:
    path = tmp_path / "boom.py"
    path.write_text("x = 1\nraise RuntimeError('boom')\n")
    with pytest.raises(SpecError, match=r"line 2.*RuntimeError: boom") as e:
        load_pipeline_file(path)
    assert e.value.where == "boom.py"


def test_py_upload_is_refused_without_running_it(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    src = f"open({str(marker)!r}, 'w').write('x')\n".encode()
    with pytest.raises(SpecError, match="never runs uploaded code") as e:
        load_pipeline_bytes(src, "up.py")
    assert e.value.where == "up.py"
    assert not marker.exists()
