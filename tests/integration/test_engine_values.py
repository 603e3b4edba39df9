"""Parameters of every KFP type and artifacts of every system.* type, in and out."""

# No `from __future__ import annotations`: kfp reads component signatures at runtime.
import json
from pathlib import Path
from typing import Any, NamedTuple, Optional

import pytest
from kfp import dsl
from kfp.dsl import (
    HTML,
    Artifact,
    ClassificationMetrics,
    Dataset,
    Input,
    Markdown,
    Metrics,
    Model,
    Output,
    SlicedClassificationMetrics,
)
from tests.support.pipeline_runs import EngineHarness, compile_pipeline, engine_fixture, read_artifact

# One home, store, event loop and fork server for the module's runs.
engine = pytest.fixture(scope="module")(engine_fixture)

# ---------------------------------------------------------------- parameters


@dsl.component
def echo_all(s: str, i: int, f: float, b: bool, lst: list, st: dict) -> NamedTuple(  # type: ignore[valid-type]
    "Out", s=str, i=int, f=float, b=bool, lst=list, st=dict, types=str
):
    import collections

    # The types the executor handed us, so the test sees what arrived, not just values.
    types = ",".join(type(v).__name__ for v in (s, i, f, b, lst, st))
    out = collections.namedtuple("Out", ["s", "i", "f", "b", "lst", "st", "types"])  # type: ignore[name-match]
    return out(s + "!", i + 1, f * 2, not b, lst + [len(lst)], {**st, "seen": True}, types)


@dsl.component
def with_defaults(
    s: str = "dflt", i: int = 7, f: float = 1.5, b: bool = True, lst: list = [1, "a"],  # noqa: B006
    st: dict = {"k": 1}, maybe: Optional[str] = None,  # noqa: B006, UP045 (kfp needs Optional)
) -> str:
    import json

    return json.dumps({"s": s, "i": i, "f": f, "b": b, "lst": lst, "st": st, "maybe": maybe})


class ParamOutputs(NamedTuple):
    s: str
    i: int
    f: float
    b: bool
    lst: list
    st: dict
    types: str
    dflt: str
    given: str


@dsl.pipeline(name="all-param-types")
def params_pipeline(
    s: str = "hi", i: int = 3, f: float = 0.25, b: bool = False, lst: list = [1, 2],  # noqa: B006
    st: dict = {"a": {"b": [1, 2]}},  # noqa: B006
) -> ParamOutputs:
    e = echo_all(s=s, i=i, f=f, b=b, lst=lst, st=st)
    d = with_defaults()
    g = with_defaults(s=e.outputs["s"], i=e.outputs["i"], f=e.outputs["f"], b=e.outputs["b"],
                      lst=e.outputs["lst"], st=e.outputs["st"], maybe="set")
    return ParamOutputs(e.outputs["s"], e.outputs["i"], e.outputs["f"], e.outputs["b"], e.outputs["lst"],
                   e.outputs["st"], e.outputs["types"], d.output, g.output)


@pytest.fixture(scope="module")
def params_yaml(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return compile_pipeline(params_pipeline, tmp_path_factory.mktemp("p") / "params.yaml")


def test_every_parameter_type_round_trips_with_its_type(engine: EngineHarness, params_yaml: Path) -> None:
    r = engine.run(params_yaml, {"s": "x", "i": 41, "f": 1.25, "b": True, "lst": [1, "two", 3.5],
                                 "st": {"n": None, "deep": {"x": [1]}}})
    assert r.state == "SUCCEEDED", r.run.error
    out = r.run.outputs
    assert out["s"] == "x!"
    assert out["i"] == 42 and isinstance(out["i"], int)
    assert out["f"] == 2.5 and isinstance(out["f"], float)
    assert out["b"] is False
    assert out["lst"] == [1, "two", 3.5, 3]
    assert out["st"] == {"n": None, "deep": {"x": [1]}, "seen": True}
    assert out["types"] == "str,int,float,bool,list,dict"
    # Upstream outputs of every type feed a downstream task unchanged.
    given = json.loads(out["given"])
    assert given == {"s": "x!", "i": 42, "f": 2.5, "b": False, "lst": [1, "two", 3.5, 3],
                     "st": {"n": None, "deep": {"x": [1]}, "seen": True}, "maybe": "set"}
    # The task row holds the typed outputs too.
    echo = r.one("echo-all")
    assert echo.outputs["parameters"]["i"] == 42
    assert echo.inputs["parameters"]["lst"] == [1, "two", 3.5]


def test_component_defaults_and_unset_optional_input(engine: EngineHarness, params_yaml: Path) -> None:
    r = engine.run(params_yaml)
    assert r.state == "SUCCEEDED", r.run.error
    assert json.loads(r.run.outputs["dflt"]) == {"s": "dflt", "i": 7, "f": 1.5, "b": True, "lst": [1, "a"],
                                                 "st": {"k": 1}, "maybe": None}
    # Pipeline defaults apply when no argument is given.
    assert r.run.outputs["s"] == "hi!" and r.run.outputs["i"] == 4 and r.run.outputs["f"] == 0.5
    assert r.run.outputs["lst"] == [1, 2, 2]
    assert r.run.outputs["types"] == "str,int,float,bool,list,dict"


def test_integer_argument_for_a_float_parameter_arrives_as_float(engine: EngineHarness,
                                                                 params_yaml: Path) -> None:
    r = engine.run(params_yaml, {"f": 2})
    assert r.state == "SUCCEEDED", r.run.error
    assert r.run.outputs["f"] == 4.0 and isinstance(r.run.outputs["f"], float)
    assert r.run.outputs["types"].split(",")[2] == "float"


# ---------------------------------------------------------------- artifacts


@dsl.component
def make_all(
    art: Output[Artifact], ds: Output[Dataset], model: Output[Model], metrics: Output[Metrics],
    cls: Output[ClassificationMetrics], sliced: Output[SlicedClassificationMetrics], html: Output[HTML],
    md: Output[Markdown],
) -> None:
    import os

    for a, text in ((art, "artifact"), (ds, "a,b\n1,2\n"), (html, "<h1>hi</h1>"), (md, "# title")):
        with open(a.path, "w") as f:
            f.write(text)
    art.metadata["note"] = "plain"
    ds.metadata["rows"] = 1
    os.makedirs(model.path, exist_ok=True)
    with open(os.path.join(model.path, "weights.txt"), "w") as f:
        f.write("w=1")
    model.metadata["framework"] = "none"
    metrics.log_metric("accuracy", 0.9)
    cls.log_confusion_matrix(["a", "b"], [[1, 0], [0, 1]])
    cls.log_roc_curve([0.0, 1.0], [0.0, 1.0], [1.0, 0.0])
    # The SDK's SlicedClassificationMetrics helpers fail in kfp 2.17 (an
    # uninitialised attribute); the metadata a component writes is what counts.
    sliced.metadata["evaluationSlices"] = [{"slice": "s1", "accuracy": 0.5}]


@dsl.component
def read_all(
    art: Input[Artifact], ds: Input[Dataset], model: Input[Model], metrics: Input[Metrics],
    cls: Input[ClassificationMetrics], html: Input[HTML], md: Input[Markdown],
) -> str:
    import json
    import os

    return json.dumps({
        "art": open(art.path).read(), "art_meta": art.metadata, "ds": open(ds.path).read(),
        "ds_meta": ds.metadata, "model": open(os.path.join(model.path, "weights.txt")).read(),
        "metrics": metrics.metadata, "cls_keys": sorted(cls.metadata), "html": open(html.path).read(),
        "md": open(md.path).read(), "schema": [a.schema_title for a in (art, ds, model, metrics, cls, html, md)],
    })


class ArtifactOutputs(NamedTuple):
    model: Model
    summary: str


@dsl.pipeline(name="all-artifact-types")
def artifacts_pipeline() -> ArtifactOutputs:
    made = make_all()
    read = read_all(art=made.outputs["art"], ds=made.outputs["ds"], model=made.outputs["model"],
                    metrics=made.outputs["metrics"], cls=made.outputs["cls"], html=made.outputs["html"],
                    md=made.outputs["md"])
    return ArtifactOutputs(made.outputs["model"], read.output)


@pytest.fixture(scope="module")
def artifacts_run(engine: EngineHarness, tmp_path_factory: pytest.TempPathFactory) -> Any:
    yaml_path = compile_pipeline(artifacts_pipeline, tmp_path_factory.mktemp("a") / "artifacts.yaml")
    return engine.run(yaml_path)


def test_every_artifact_type_is_stored_with_its_metadata(artifacts_run: Any, engine: EngineHarness) -> None:
    r = artifacts_run
    assert r.state == "SUCCEEDED", r.run.error
    made = r.one("make-all")
    stored = {a.name: a for a in engine.store.list_artifacts_for_task(made.task_id)}
    assert {n: a.schema_title for n, a in stored.items()} == {
        "art": "system.Artifact", "ds": "system.Dataset", "model": "system.Model", "metrics": "system.Metrics",
        "cls": "system.ClassificationMetrics", "sliced": "system.SlicedClassificationMetrics",
        "html": "system.HTML", "md": "system.Markdown",
    }
    assert stored["art"].metadata == {"note": "plain"}
    assert stored["ds"].metadata == {"rows": 1}
    assert stored["model"].metadata == {"framework": "none"}
    assert stored["metrics"].metadata == {"accuracy": 0.9}
    cm = stored["cls"].metadata["confusionMatrix"]
    assert cm["annotationSpecs"] == [{"displayName": "a"}, {"displayName": "b"}]
    assert [row["row"] for row in cm["rows"]] == [[1, 0], [0, 1]]
    assert len(stored["cls"].metadata["confidenceMetrics"]) == 2
    assert stored["sliced"].metadata == {"evaluationSlices": [{"slice": "s1", "accuracy": 0.5}]}
    # Under the pipeline root, with their content.
    root = engine.settings.pipeline_root
    for a in stored.values():
        assert a.uri.startswith(root), a.uri
    assert read_artifact(stored["ds"].uri) == "a,b\n1,2\n"
    assert read_artifact(stored["html"].uri) == "<h1>hi</h1>"
    assert (Path(stored["model"].uri) / "weights.txt").read_text() == "w=1"
    # Digests identify content (used by the cache).
    assert stored["ds"].digest and stored["ds"].digest.startswith("sha256:")


def test_downstream_sees_artifact_files_metadata_and_types(artifacts_run: Any) -> None:
    got = json.loads(artifacts_run.run.outputs["summary"])
    assert got["art"] == "artifact" and got["art_meta"] == {"note": "plain"}
    assert got["ds"] == "a,b\n1,2\n" and got["ds_meta"] == {"rows": 1}
    assert got["model"] == "w=1"
    assert got["metrics"] == {"accuracy": 0.9}
    assert got["cls_keys"] == ["confidenceMetrics", "confusionMatrix"]
    assert got["html"] == "<h1>hi</h1>" and got["md"] == "# title"
    assert got["schema"] == ["system.Artifact", "system.Dataset", "system.Model", "system.Metrics",
                             "system.ClassificationMetrics", "system.HTML", "system.Markdown"]


def test_artifact_pipeline_output_is_uri_and_metadata(artifacts_run: Any) -> None:
    model = artifacts_run.run.outputs["model"]
    assert set(model) == {"uri", "metadata"}
    assert model["metadata"] == {"framework": "none"}
    assert (Path(model["uri"]) / "weights.txt").read_text() == "w=1"


def test_lineage_records_inputs_of_the_reader(artifacts_run: Any, engine: EngineHarness) -> None:
    reader = artifacts_run.one("read-all")
    inputs = reader.inputs["artifacts"]
    assert set(inputs) == {"art", "ds", "model", "metrics", "cls", "html", "md"}
    made = artifacts_run.one("make-all")
    produced = {a.artifact_id for a in engine.store.list_artifacts_for_task(made.task_id)}
    assert {a[0]["artifact_id"] for a in inputs.values()} <= produced


# ---------------------------------------------------------------- lists of artifacts


@dsl.component
def write_text(text: str, out: Output[Dataset]) -> None:
    with open(out.path, "w") as f:
        f.write(text)
    out.metadata["text"] = text


@dsl.component
def join_texts(items: Input[list[Dataset]]) -> str:
    return "+".join(open(d.path).read() + ":" + d.metadata["text"] for d in items)


class ListOutputs(NamedTuple):
    joined: str
    all_items: list[Dataset]


@dsl.pipeline(name="artifact-lists")
def artifact_list_pipeline(texts: list = ["a", "b", "c"]) -> ListOutputs:  # noqa: B006
    with dsl.ParallelFor(texts) as t:
        w = write_text(text=t)
    j = join_texts(items=dsl.Collected(w.outputs["out"]))
    return ListOutputs(j.output, dsl.Collected(w.outputs["out"]))


def test_list_of_artifacts_in_and_as_pipeline_output(engine: EngineHarness, tmp_path: Path) -> None:
    r = engine.run(compile_pipeline(artifact_list_pipeline, tmp_path / "lists.yaml"))
    assert r.state == "SUCCEEDED", r.run.error
    assert r.run.outputs["joined"] == "a:a+b:b+c:c"
    items = r.run.outputs["all_items"]
    assert [read_artifact(i["uri"]) for i in items] == ["a", "b", "c"]
    assert [i["metadata"] for i in items] == [{"text": "a"}, {"text": "b"}, {"text": "c"}]
