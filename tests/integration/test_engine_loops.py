"""dsl.ParallelFor and dsl.Collected, compiled with kfp and run through the engine."""

# No `from __future__ import annotations`: kfp reads component signatures at runtime.
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from kfp import dsl
from kfp.dsl import Dataset, Input, Output
from tests.support.pipeline_runs import (
    EngineHarness,
    compile_pipeline,
    engine_fixture,
    max_overlap,
    read_artifact,
    read_intervals,
)

engine = pytest.fixture(scope="module")(engine_fixture)


@dsl.component
def double(x: int) -> int:
    return x * 2


@dsl.component
def fmt(a: str, b: str) -> str:
    return f"{a}-{b}"


@dsl.component
def make_list(n: int) -> list:
    return [{"label": f"n{k}", "size": k} for k in range(n)]


@dsl.component
def total(values: list) -> int:
    return sum(values)


@dsl.component
def join(values: list) -> str:
    import json

    return json.dumps(values)


class LoopOutputs(NamedTuple):
    raw: int
    from_input: str
    from_upstream: str
    nested: str


@dsl.pipeline(name="loops")
def loops(words: list = ["x", "y"], n: int = 3) -> LoopOutputs:  # noqa: B006
    with dsl.ParallelFor([1, 2, 3]) as v:  # a raw list
        d = double(x=v)
    raw = total(values=dsl.Collected(d.output))
    with dsl.ParallelFor(words) as w:  # a pipeline input
        f = fmt(a=w, b="in")
    from_input = join(values=dsl.Collected(f.output))
    made = make_list(n=n)
    with dsl.ParallelFor(made.output) as item:  # an upstream output of dicts, with fields
        g = fmt(a=item.label, b=item.size)
    from_upstream = join(values=dsl.Collected(g.output))
    with dsl.ParallelFor(["a", "b"]) as outer_item, dsl.ParallelFor(["1", "2"]) as inner_item:
        h = fmt(a=outer_item, b=inner_item)
    nested = join(values=dsl.Collected(h.output))
    return LoopOutputs(raw.output, from_input.output, from_upstream.output, nested.output)


@pytest.fixture(scope="module")
def loops_run(engine: EngineHarness, tmp_path_factory: pytest.TempPathFactory) -> Any:
    return engine.run(compile_pipeline(loops, tmp_path_factory.mktemp("loops") / "loops.yaml"))


def test_loop_over_raw_list_collects_in_order(loops_run: Any) -> None:
    assert loops_run.state == "SUCCEEDED", loops_run.run.error
    assert loops_run.run.outputs["raw"] == 12


def test_loop_over_pipeline_input(loops_run: Any) -> None:
    import json

    assert json.loads(loops_run.run.outputs["from_input"]) == ["x-in", "y-in"]


def test_loop_over_upstream_dicts_with_item_fields(loops_run: Any) -> None:
    import json

    assert json.loads(loops_run.run.outputs["from_upstream"]) == ["n0-0", "n1-1", "n2-2"]


def test_nested_loops_collect_nested_lists(loops_run: Any) -> None:
    import json

    assert json.loads(loops_run.run.outputs["nested"]) == [["a-1", "a-2"], ["b-1", "b-2"]]


def test_each_iteration_is_its_own_task_with_an_index(loops_run: Any) -> None:
    r = loops_run
    doubles = r.named("double")
    assert [t.iteration_index for t in doubles] == [0, 1, 2]
    assert [t.outputs["parameters"]["Output"] for t in doubles] == [2, 4, 6]
    assert len({t.task_id for t in doubles}) == 3
    loop_rows = [t for t in r.tasks if t.kind == "LOOP"]
    iterations = [t for t in r.tasks if t.kind == "ITERATION"]
    # 4 loops at the top plus 2 inner loops (one per outer iteration).
    assert len(loop_rows) == 6
    assert len(iterations) == 3 + 2 + 3 + 2 + 2 * 2
    first = next(t for t in doubles if t.iteration_index == 0)
    parent = next(t for t in r.tasks if t.task_id == first.parent_task_id)
    assert parent.kind == "ITERATION" and parent.iteration_index == 0
    inner = r.named("fmt-3")
    assert sorted(t.outputs["parameters"]["Output"] for t in inner) == ["a-1", "a-2", "b-1", "b-2"]
    assert len({t.path for t in inner}) == 4


def test_json_lists_iterations_with_their_index(loops_run: Any) -> None:
    doc = loops_run.json()
    entries = [t for t in doc["tasks"] if t["name"] == "double"]
    assert sorted((t["index"], t["outputs"]["Output"]) for t in entries) == [(0, 2), (1, 4), (2, 6)]
    assert all(t["state"] == "SUCCEEDED" for t in entries)


def test_loop_over_a_cli_style_json_string(engine: EngineHarness, tmp_path: Path) -> None:
    r = engine.run(compile_pipeline(loops, tmp_path / "loops.yaml"), {"words": ["only"], "n": 0})
    assert r.state == "SUCCEEDED", r.run.error
    import json

    assert json.loads(r.run.outputs["from_input"]) == ["only-in"]
    # An empty loop runs no iteration and collects an empty list.
    assert json.loads(r.run.outputs["from_upstream"]) == []
    assert r.named("fmt-2") == []


# ---------------------------------------------------------------- artifacts


@dsl.component
def produce(text: str, out: Output[Dataset]) -> None:
    with open(out.path, "w") as f:
        f.write(text)
    out.metadata["text"] = text


@dsl.component
def upper(data: Input[Dataset], out: Output[Dataset]) -> None:
    with open(data.path) as src, open(out.path, "w") as f:
        f.write(src.read().upper())
    out.metadata["from"] = data.metadata["text"]


@dsl.component
def concat_all(items: Input[list[Dataset]]) -> str:
    return ",".join(open(d.path).read() for d in items)


@dsl.pipeline(name="artifact-loops")
def artifact_loops() -> str:
    with dsl.ParallelFor(["p", "q"]), dsl.ParallelFor(["1", "2"]) as inner_item:
        made = produce(text=inner_item)
        up = upper(data=made.outputs["out"])
    return concat_all(items=dsl.Collected(up.outputs["out"])).output


@dsl.pipeline(name="make-texts")
def make_texts() -> list[Dataset]:
    with dsl.ParallelFor(["m", "n"]) as t:
        made = produce(text=t)
    return dsl.Collected(made.outputs["out"])


@dsl.pipeline(name="artifact-iterator")
def artifact_iterator() -> str:
    texts = make_texts()
    with dsl.ParallelFor(texts.output) as art:  # artifactIterator over a list of artifacts
        up = upper(data=art)
    return concat_all(items=dsl.Collected(up.outputs["out"])).output


def test_collected_artifacts_through_nested_loops_are_flat(engine: EngineHarness, tmp_path: Path) -> None:
    r = engine.run(compile_pipeline(artifact_loops, tmp_path / "artloops.yaml"))
    assert r.state == "SUCCEEDED", r.run.error
    assert r.run.outputs["Output"] == "1,2,1,2"
    ups = r.named("upper")
    assert len(ups) == 4
    assert {read_artifact(t.outputs["artifacts"]["out"][0]["uri"]) for t in ups} == {"1", "2"}


def test_loop_over_artifacts(engine: EngineHarness, tmp_path: Path) -> None:
    yaml_path = compile_pipeline(artifact_iterator, tmp_path / "artit.yaml")
    assert "artifactIterator" in yaml_path.read_text()
    r = engine.run(yaml_path)
    assert r.state == "SUCCEEDED", r.run.error
    assert r.run.outputs["Output"] == "M,N"
    ups = r.named("upper")
    assert [t.iteration_index for t in ups] == [0, 1]
    assert [t.outputs["artifacts"]["out"][0]["metadata"] for t in ups] == [{"from": "m"}, {"from": "n"}]


# ---------------------------------------------------------------- parallelism


@dsl.component
def probe(directory: str, key: str, peers: int) -> str:
    import json
    import os
    import time

    start = time.time()
    open(os.path.join(directory, key + ".start"), "w").close()
    # Rendezvous: wait (bounded) until `peers` probes have started; if iterations ran
    # one at a time this never happens and the recorded overlap stays at 1.
    deadline = start + 60
    while time.time() < deadline:
        if sum(1 for f in os.listdir(directory) if f.endswith(".start")) >= peers:
            break
        time.sleep(0.005)
    time.sleep(0.02)
    with open(os.path.join(directory, key + ".json"), "w") as f:
        json.dump({"start": start, "end": time.time()}, f)
    return key


@dsl.pipeline(name="limited-loop")
def limited_loop(directory: str) -> None:
    with dsl.ParallelFor(["a", "b", "c", "d", "e", "f", "g", "h"], parallelism=2) as k:
        probe(directory=directory, key=k, peers=2)


def test_loop_parallelism_limit_is_honoured(engine: EngineHarness, tmp_path: Path) -> None:
    spec = compile_pipeline(limited_loop, tmp_path / "limited.yaml")
    assert "parallelismLimit: 2" in spec.read_text()
    probes = tmp_path / "probes"
    probes.mkdir()
    # The launcher would allow 8 at once: only the loop's own limit holds it to 2.
    r = engine.run(spec, {"directory": str(probes)}, parallelism=8)
    assert r.state == "SUCCEEDED", r.run.error
    intervals = read_intervals(probes)
    assert len(intervals) == 8
    assert max_overlap(intervals) == 2


# ---------------------------------------------------------------- conditions and failures inside loops


@dsl.component
def fail_on_two(x: int) -> int:
    if x == 2:
        raise ValueError("two is not allowed")
    return x


@dsl.pipeline(name="condition-in-loop")
def condition_in_loop() -> str:
    with dsl.ParallelFor([1, 5, 9, 2]) as v, dsl.If(v > 3):
        d = double(x=v)
    return join(values=dsl.Collected(d.output)).output


@dsl.pipeline(name="failing-iteration")
def failing_iteration() -> str:
    with dsl.ParallelFor([1, 2, 3]) as v:
        f = fail_on_two(x=v)
    return join(values=dsl.Collected(f.output)).output


def test_condition_per_iteration_and_collected_skips_untaken(engine: EngineHarness, tmp_path: Path) -> None:
    import json

    r = engine.run(compile_pipeline(condition_in_loop, tmp_path / "cil.yaml"))
    assert r.state == "SUCCEEDED", r.run.error
    assert json.loads(r.run.outputs["Output"]) == [10, 18]
    states = {t.path: t.state for t in r.named("double")}
    assert sorted(states.values()) == ["SKIPPED", "SKIPPED", "SUCCEEDED", "SUCCEEDED"]
    assert all(p.startswith("for-loop-") for p in states)


def test_one_failing_iteration_fails_the_loop_not_its_siblings(engine: EngineHarness, tmp_path: Path) -> None:
    r = engine.run(compile_pipeline(failing_iteration, tmp_path / "fail.yaml"))
    assert r.state == "FAILED"
    assert "two is not allowed" in (r.run.error or "")
    assert [(t.iteration_index, t.state) for t in r.named("fail-on-two")] == [
        (0, "SUCCEEDED"), (1, "FAILED"), (2, "SUCCEEDED")]
    assert next(t for t in r.tasks if t.kind == "LOOP").state == "FAILED"
    assert r.named("join") == []  # the fan-in never started
