"""The cache decision (engine/caching.py): fingerprints, what makes two executions
the same work, and hits over the fakes."""

# No `from __future__ import annotations`: kfp reads component signatures at runtime.
from pathlib import Path
from typing import Any

from kfp import dsl
from tests.support.fake_launcher import FakeLauncher, failing, returning
from tests.support.fake_runs import FakeEngine

from pipeyard.engine.caching import cacheable, fingerprint
from pipeyard.ir.views import ComponentView, ImporterView, IODefs, ParamSource


def _importer(uri: str, reimport: bool = False) -> ComponentView:
    imp = ImporterView(uri=ParamSource(kind="constant", value=uri), schema_title="system.Dataset",
                       reimport=reimport)
    return ComponentView(name="comp-importer", inputs=IODefs(), outputs=IODefs(), importer=imp)


def test_importer_fingerprint_follows_the_content_of_its_uri(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.write_text("1")
    comp = _importer(str(data))
    before = fingerprint(pipeline_name="p", component=comp, parameters={}, artifacts={})
    assert before == fingerprint(pipeline_name="p", component=comp, parameters={}, artifacts={})
    data.write_text("2")
    assert before != fingerprint(pipeline_name="p", component=comp, parameters={}, artifacts={})


def test_reimport_is_never_served_from_the_cache(tmp_path: Path) -> None:
    assert cacheable(_importer(str(tmp_path)))
    assert not cacheable(_importer(str(tmp_path), reimport=True))


def test_run_input_artifact_without_digest_is_identified_by_content(tmp_path: Path) -> None:
    data = tmp_path / "input"
    data.write_text("a")
    comp = ComponentView(name="c", inputs=IODefs(), outputs=IODefs())
    art = {"uri": str(data), "type": "system.Dataset", "digest": None}
    first = fingerprint(pipeline_name="p", component=comp, parameters={}, artifacts={"x": [art]})
    data.write_text("b")
    assert first != fingerprint(pipeline_name="p", component=comp, parameters={}, artifacts={"x": [art]})


def test_custom_cache_key_ignores_inputs() -> None:
    comp = ComponentView(name="c", inputs=IODefs(), outputs=IODefs())
    a = fingerprint(pipeline_name="p", component=comp, parameters={"x": 1}, artifacts={}, cache_key="k")
    b = fingerprint(pipeline_name="p", component=comp, parameters={"x": 2}, artifacts={}, cache_key="k")
    assert a == b
    assert a != fingerprint(pipeline_name="p", component=comp, parameters={"x": 1}, artifacts={})


def test_a_different_volume_or_secret_is_a_different_execution() -> None:
    comp = ComponentView(name="c", inputs=IODefs(), outputs=IODefs())

    def fp(platform: "dict[str, Any] | None") -> str:
        return fingerprint(pipeline_name="p", component=comp, parameters={}, artifacts={}, platform=platform)

    data = {"pvcMount": [{"constant": "data-a", "mountPath": "/data"}]}
    other = {"pvcMount": [{"constant": "data-b", "mountPath": "/data"}]}
    assert fp(data) == fp(dict(data))
    assert fp(data) != fp(other)
    assert fp(data) != fp(None)


# ------------------------------------------------------------------ over the fakes


@dsl.component
def square(x: int) -> int:
    return x * x


@dsl.pipeline(name="cached")
def cached(x: int = 2) -> int:
    return square(x=x).output


@dsl.pipeline(name="uncached")
def uncached(x: int = 2) -> int:
    task = square(x=x)
    task.set_caching_options(False)
    return task.output


def _engine(tmp_path: Path) -> FakeEngine:
    return FakeEngine(tmp_path, FakeLauncher({"square": returning(lambda x: x * x)}))


def test_the_same_work_is_served_from_the_cache_of_an_earlier_run(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    first = engine.run(cached, {"x": 3}, caching=True)
    second = engine.run(cached, {"x": 3}, caching=True)
    assert (first.state, second.state) == ("SUCCEEDED", "SUCCEEDED")
    assert len(engine.launcher.calls) == 1
    origin, hit = first.at("square"), second.at("square")
    assert (hit.cached, hit.cached_from_task_id, hit.outputs) == (True, origin.task_id, origin.outputs)
    assert hit.fingerprint == origin.fingerprint is not None
    assert second.run.outputs == {"Output": 9}


def test_other_inputs_a_disabled_run_or_task_are_not_served_from_the_cache(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    engine.run(cached, {"x": 3}, caching=True)
    assert engine.run(cached, {"x": 4}, caching=True).at("square").cached is False
    assert engine.run(cached, {"x": 3}, caching=False).at("square").cached is False
    engine.run(uncached, {"x": 3}, caching=True)
    assert engine.run(uncached, {"x": 3}, caching=True).at("square").cached is False
    assert len(engine.launcher.calls) == 5


def test_a_failed_execution_is_never_a_cache_hit(tmp_path: Path) -> None:
    engine = FakeEngine(tmp_path, FakeLauncher({"square": failing(1)}))
    assert engine.run(cached, {"x": 3}, caching=True).state == "FAILED"
    engine.launcher.handlers["square"] = returning(lambda x: x * x)
    again = engine.run(cached, {"x": 3}, caching=True)
    assert again.state == "SUCCEEDED" and again.at("square").cached is False
    assert len(engine.launcher.calls) == 2
