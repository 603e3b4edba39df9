"""Caching (per task, per run, custom keys, content identity) and dsl.importer,
compiled with kfp and run through the engine."""

# No `from __future__ import annotations`: kfp reads component signatures at runtime.
from pathlib import Path

import pytest
from kfp import dsl
from kfp.dsl import Dataset, Input, Output
from tests.support.pipeline_runs import EngineHarness, compile_pipeline, engine_fixture, read_artifact

engine = pytest.fixture(scope="module")(engine_fixture)


@dsl.component
def count_run(counter: str, x: str) -> str:
    # Appends to a file outside the pipeline root: a line per real execution.
    with open(counter, "a") as f:
        f.write(x + "\n")
    return x + "!"


@dsl.component
def make_data(x: str, out: Output[Dataset]) -> None:
    with open(out.path, "w") as f:
        f.write(x)


@dsl.component
def read_data(counter: str, data: Input[Dataset]) -> str:
    with open(counter, "a") as f:
        f.write("read\n")
    with open(data.path) as f:
        return f.read()


@dsl.pipeline(name="cached")
def cached(counter: str, x: str = "a") -> str:
    first = count_run(counter=counter, x=x)
    count_run(counter=counter, x="never-cached").set_caching_options(False)
    made = make_data(x=first.output)
    return read_data(counter=counter, data=made.outputs["out"]).output


@pytest.fixture(scope="module")
def cached_yaml(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return compile_pipeline(cached, tmp_path_factory.mktemp("c") / "cached.yaml")


def _lines(counter: Path) -> list[str]:
    return counter.read_text().splitlines() if counter.exists() else []


def test_second_run_hits_the_cache(engine: EngineHarness, cached_yaml: Path, tmp_path: Path) -> None:
    counter = tmp_path / "counter"
    first = engine.run(cached_yaml, {"counter": str(counter)}, caching=True)
    assert first.state == "SUCCEEDED", first.run.error
    assert sorted(_lines(counter)) == ["a", "never-cached", "read"]
    assert not any(t.cached for t in first.tasks)
    second = engine.run(cached_yaml, {"counter": str(counter)}, caching=True)
    assert second.state == "SUCCEEDED", second.run.error
    # Only the task with caching turned off ran again.
    assert sorted(_lines(counter)) == ["a", "never-cached", "never-cached", "read"]
    assert second.one("count-run").cached is True
    assert second.one("count-run").cached_from_task_id == first.one("count-run").task_id
    assert second.one("count-run-2").cached is False
    assert second.one("read-data").cached is True
    assert second.run.outputs["Output"] == "a!"
    # Cached outputs are the earlier execution's, artifacts included.
    assert second.artifacts("make-data", "out")[0]["uri"] == first.artifacts("make-data", "out")[0]["uri"]
    doc = second.json()
    flags = {t["name"]: t["cached"] for t in doc["tasks"]}
    assert flags == {"count-run": True, "count-run-2": False, "make-data": True, "read-data": True}


def test_different_input_value_misses(engine: EngineHarness, cached_yaml: Path, tmp_path: Path) -> None:
    counter = tmp_path / "counter"
    engine.run(cached_yaml, {"counter": str(counter), "x": "b"}, caching=True)
    r = engine.run(cached_yaml, {"counter": str(counter), "x": "c"}, caching=True)
    assert not r.one("count-run").cached
    assert r.run.outputs["Output"] == "c!"


def test_no_cache_for_the_run_runs_everything(engine: EngineHarness, cached_yaml: Path, tmp_path: Path) -> None:
    counter = tmp_path / "counter"
    engine.run(cached_yaml, {"counter": str(counter), "x": "d"}, caching=True)
    r = engine.run(cached_yaml, {"counter": str(counter), "x": "d"}, caching=False)
    assert r.state == "SUCCEEDED"
    assert not any(t.cached for t in r.tasks)
    assert sorted(_lines(counter)) == ["d", "d", "never-cached", "never-cached", "read", "read"]


# ---------------------------------------------------------------- custom cache key


@dsl.pipeline(name="cache-key")
def keyed(counter: str, x: str) -> str:
    return count_run(counter=counter, x=x).set_caching_options(True, cache_key="stable-key").output


def test_custom_cache_key_replaces_the_computed_key(engine: EngineHarness, tmp_path: Path) -> None:
    spec = compile_pipeline(keyed, tmp_path / "keyed.yaml")
    assert "cacheKey: stable-key" in spec.read_text()
    counter = tmp_path / "counter"
    first = engine.run(spec, {"counter": str(counter), "x": "one"}, caching=True)
    # Different inputs, same key: KFP's meaning of a custom key is "this is the same work".
    second = engine.run(spec, {"counter": str(counter), "x": "two"}, caching=True)
    assert first.run.outputs["Output"] == "one!"
    assert second.one("count-run").cached is True
    assert second.run.outputs["Output"] == "one!"
    assert _lines(counter) == ["one"]


# ---------------------------------------------------------------- content identity and importer


@dsl.pipeline(name="imported")
def imported(counter: str, uri: str) -> str:
    data = dsl.importer(artifact_uri=uri, artifact_class=Dataset, reimport=False, metadata={"source": uri})
    return read_data(counter=counter, data=data.output).output


@pytest.fixture(scope="module")
def imported_yaml(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return compile_pipeline(imported, tmp_path_factory.mktemp("i") / "imported.yaml")


def test_changed_data_under_the_same_uri_does_not_hit_the_cache(engine: EngineHarness, imported_yaml: Path,
                                                                tmp_path: Path) -> None:
    data, counter = tmp_path / "data.txt", tmp_path / "counter"
    data.write_text("version 1")
    first = engine.run(imported_yaml, {"counter": str(counter), "uri": str(data)}, caching=True)
    assert first.run.outputs["Output"] == "version 1"
    same = engine.run(imported_yaml, {"counter": str(counter), "uri": str(data)}, caching=True)
    assert same.one("read-data").cached is True
    data.write_text("version 2")
    changed = engine.run(imported_yaml, {"counter": str(counter), "uri": str(data)}, caching=True)
    assert changed.state == "SUCCEEDED", changed.run.error
    assert changed.one("read-data").cached is False
    assert changed.run.outputs["Output"] == "version 2"
    assert _lines(counter) == ["read", "read"]


def test_importer_local_path_and_file_uri_with_metadata(engine: EngineHarness, imported_yaml: Path,
                                                        tmp_path: Path) -> None:
    data = tmp_path / "in.csv"
    data.write_text("x,y\n")
    for uri in (str(data), f"file://{data}"):
        r = engine.run(imported_yaml, {"counter": str(tmp_path / "c"), "uri": uri})
        assert r.state == "SUCCEEDED", r.run.error
        assert r.run.outputs["Output"] == "x,y\n"
        imp = r.one("importer")
        assert imp.kind == "IMPORTER" and imp.state == "SUCCEEDED"
        art = imp.outputs["artifacts"]["artifact"][0]
        assert art["metadata"] == {"source": uri}
        assert art["type"] == "system.Dataset"
        assert read_artifact(art["uri"]) == "x,y\n"
        # The importer records the artifact (no copy: it points at the user's file).
        stored = engine.store.list_artifacts_for_task(imp.task_id)
        assert [a.uri for a in stored] == [str(data)]


@dsl.pipeline(name="reimported")
def reimported(uri: str, counter: str) -> str:
    data = dsl.importer(artifact_uri=uri, artifact_class=Dataset, reimport=True)
    return read_data(counter=counter, data=data.output).output


def test_reimport_imports_again(engine: EngineHarness, tmp_path: Path) -> None:
    spec = compile_pipeline(reimported, tmp_path / "re.yaml")
    assert "reimport: true" in spec.read_text()
    data = tmp_path / "d.txt"
    data.write_text("v")
    args = {"uri": str(data), "counter": str(tmp_path / "c")}
    a = engine.run(spec, args, caching=True)
    b = engine.run(spec, args, caching=True)
    assert a.state == b.state == "SUCCEEDED"
    ids = [engine.store.list_artifacts_for_task(r.one("importer").task_id) for r in (a, b)]
    assert ids[0] and ids[1] and ids[0][0].artifact_id != ids[1][0].artifact_id


def test_importer_of_a_missing_uri_param_fails(engine: EngineHarness, imported_yaml: Path,
                                               tmp_path: Path) -> None:
    r = engine.run(imported_yaml, {"counter": str(tmp_path / "c"), "uri": ""})
    assert r.state == "FAILED"
    assert "importer" in (r.run.error or "")


def test_cached_results_survive_a_new_store_connection(engine: EngineHarness, cached_yaml: Path,
                                                       tmp_path: Path) -> None:
    """A second harness on the same home is a second process in all that matters
    here (new store, new launcher); the CLI test covers real processes."""
    counter = tmp_path / "counter"
    engine.run(cached_yaml, {"counter": str(counter), "x": "z"}, caching=True)
    other = EngineHarness(engine.home)
    try:
        r = other.run(cached_yaml, {"counter": str(counter), "x": "z"}, caching=True)
    finally:
        other.close()
    assert r.one("count-run").cached is True
    assert r.run.outputs["Output"] == "z!"

