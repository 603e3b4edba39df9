"""Importer tasks (engine/importer.py) over the fakes: nothing is launched, the URI
becomes an artifact with resolved metadata, and a missing URI fails naming the task."""

# No `from __future__ import annotations`: kfp reads component signatures at runtime.
from pathlib import Path

from kfp import dsl
from kfp.dsl import Dataset, Input
from tests.support.fake_launcher import FakeLauncher
from tests.support.fake_runs import FakeEngine


@dsl.component
def size(data: Input[Dataset]) -> int:
    return 0


@dsl.pipeline(name="imports")
def imports(uri: str, tag: str = "v1") -> int:
    imported = dsl.importer(artifact_uri=uri, artifact_class=Dataset, reimport=False,
                            metadata={"tag": tag, "fixed": "yes"})
    return size(data=imported.output).output


def test_the_uri_becomes_an_artifact_downstream_tasks_read(tmp_path: Path) -> None:
    data = tmp_path / "data.txt"
    data.write_text("12345")
    engine = FakeEngine(tmp_path, FakeLauncher({"size": lambda c: c.succeed({"Output": len(c.read_input("data"))})}))
    result = engine.run(imports, {"uri": f"file://{data}", "tag": "v2"})
    assert result.state == "SUCCEEDED", result.run.error
    assert [c.task for c in engine.launcher.calls] == ["size"]  # the importer launched nothing
    importer = result.at("importer")
    assert (importer.kind, importer.state) == ("IMPORTER", "SUCCEEDED")
    (artifact,) = (importer.outputs or {})["artifacts"]["artifact"]
    assert (artifact["uri"], artifact["metadata"]) == (str(data), {"tag": "v2", "fixed": "yes"})
    assert result.run.outputs == {"Output": 5}
    recorded = [a for a in engine.recorder.artifacts if a.task_id == importer.task_id]
    assert [(a.uri, a.schema_title) for a in recorded] == [(str(data), "system.Dataset")]


def test_an_empty_uri_fails_the_importer_naming_it(tmp_path: Path) -> None:
    engine = FakeEngine(tmp_path)
    result = engine.run(imports, {"uri": ""})
    assert result.state == "FAILED"
    assert engine.launcher.calls == []
    assert result.at("importer").error == "importer has no artifact URI (got '')"
    assert result.run.error == "task 'importer': importer has no artifact URI (got '')"
