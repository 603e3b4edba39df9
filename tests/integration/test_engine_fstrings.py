"""Values built at task boundaries: f-strings of pipeline channels and loop items, KFP's
type conversion into STRING inputs, run-time type mismatches, the job-time placeholders,
and a run's stored parameters. Real kfp pipelines through the engine."""

# No `from __future__ import annotations`: kfp reads component signatures at runtime.
from datetime import timezone
from pathlib import Path

import pytest
from kfp import dsl
from tests.support.pipeline_runs import EngineHarness, compile_pipeline, engine_fixture

engine = pytest.fixture(scope="module")(engine_fixture)


@dsl.component
def show(msg: str) -> str:
    return msg


@dsl.component
def twice(n: int) -> int:
    return 2 * n


@dsl.component
def up() -> int:
    return 7


@dsl.component
def records() -> list:
    return [{"a": 1, "b": "x"}, {"a": 2, "b": "y"}]


@dsl.pipeline(name="fstrings-of-every-type")
def every_type(s: str = "bob", i: int = 3, f: float = 0.25, b: bool = True,
               lst: list = [1, "two"], st: dict = {"k": [1, 2]}) -> str:  # noqa: B006
    u = up()
    return show(msg=f"s={s} i={i} f={f} b={b} lst={lst} st={st} up={u.output}!").output


@dsl.pipeline(name="fstrings-in-loops")
def in_loops(rows: list = [{"a": 5, "b": "p"}]) -> None:  # noqa: B006
    # Nested: an outer item, the fields of an inner item over a task's output (the
    # inner loop's items come from a task inside the outer loop).
    with dsl.ParallelFor([1, 2]) as i, dsl.ParallelFor(records().output) as it:
        show(msg=f"i={i} a={it.a} b={it.b}").set_display_name("nested")
    with dsl.ParallelFor([{"q": [{"r": 1.5}, {"r": 2}], "n": "m"}]) as o, dsl.ParallelFor(o.q) as q:
        show(msg=f"{o.n}-{q.r} {q}").set_display_name("item-of-item")
    with dsl.ParallelFor(rows) as row:
        show(msg=f"row a={row.a} b={row.b}").set_display_name("param-rows")
        # No f-string: an int field into a STRING input arrives as text.
        show(msg=row.a).set_display_name("int-field")


@pytest.fixture(scope="module")
def yamls(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("fstrings")
    return {"every": compile_pipeline(every_type, d / "every.yaml"),
            "loops": compile_pipeline(in_loops, d / "loops.yaml")}


def test_fstring_of_every_parameter_type(engine: EngineHarness, yamls: dict[str, Path]) -> None:
    r = engine.run(yamls["every"], {"s": "ann", "f": 1e-7, "lst": [1, {"x": None}]})
    assert r.state == "SUCCEEDED", r.run.error
    assert r.params("show")["Output"] == (
        's=ann i=3 f=0.0000001 b=true lst=[1,{"x":null}] st={"k":[1,2]} up=7!')
    # Stored: what the caller gave (KFP's runtime_config.parameters); defaults applied at run time.
    assert r.run.parameters == {"s": "ann", "f": 1e-7, "lst": [1, {"x": None}]}


def test_fstrings_of_loop_items_fields_and_nested_loops(engine: EngineHarness, yamls: dict[str, Path]) -> None:
    r = engine.run(yamls["loops"], {"rows": [{"a": 10, "b": "u"}, {"a": 2.5, "b": True}]})
    assert r.state == "SUCCEEDED", r.run.error

    def outputs(display: str) -> list[str]:
        tasks = sorted((t for t in r.tasks if t.kind == "CONTAINER" and t.display_name == display),
                       key=lambda t: t.path)
        return [(t.outputs or {})["parameters"]["Output"] for t in tasks]

    assert outputs("nested") == ["i=1 a=1 b=x", "i=1 a=2 b=y", "i=2 a=1 b=x", "i=2 a=2 b=y"]
    assert outputs("item-of-item") == ['m-1.5 {"r":1.5}', 'm-2 {"r":2}']
    assert outputs("param-rows") == ["row a=10 b=u", "row a=2.5 b=true"]
    assert outputs("int-field") == ["10", "2.5"]


@dsl.pipeline(name="mismatch-at-run-time")
def mismatch(rows: list = [{"n": "seven"}]) -> None:  # noqa: B006
    with dsl.ParallelFor(rows) as row:
        twice(n=row.n)


def test_a_mismatch_the_driver_refuses_fails_the_task_naming_both_types(
    engine: EngineHarness, tmp_path: Path
) -> None:
    r = engine.run(compile_pipeline(mismatch, tmp_path / "m.yaml"))
    assert r.state == "FAILED"
    (task,) = r.named("twice")
    assert task.state == "FAILED"
    assert task.error == "input parameter 'n' expects NUMBER_INTEGER, got a string ('seven')"
    assert "task 'for-loop-1[0]/twice'" in (r.run.error or "")


@dsl.pipeline(name="job-times")
def job_times(name: str = "bob") -> None:
    show(msg=f"{name} created {dsl.PIPELINE_JOB_CREATE_TIME_UTC_PLACEHOLDER} "
             f"scheduled {dsl.PIPELINE_JOB_SCHEDULE_TIME_UTC_PLACEHOLDER}")


def test_job_time_placeholders_inside_fstrings(engine: EngineHarness, tmp_path: Path) -> None:
    r = engine.run(compile_pipeline(job_times, tmp_path / "t.yaml"))
    assert r.state == "SUCCEEDED", r.run.error
    created = r.run.created_at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    # Not a recurring run: the schedule time is the creation time, as in KFP.
    assert r.params("show")["Output"] == f"bob created {created} scheduled {created}"
    assert r.run.parameters == {}
