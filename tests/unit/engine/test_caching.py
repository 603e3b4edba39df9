"""Cache fingerprints: what makes two executions the same work."""

from __future__ import annotations

from pathlib import Path

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

    def fp(platform: dict | None) -> str:
        return fingerprint(pipeline_name="p", component=comp, parameters={}, artifacts={}, platform=platform)

    data = {"pvcMount": [{"constant": "data-a", "mountPath": "/data"}]}
    other = {"pvcMount": [{"constant": "data-b", "mountPath": "/data"}]}
    assert fp(data) == fp(dict(data))
    assert fp(data) != fp(other)
    assert fp(data) != fp(None)
